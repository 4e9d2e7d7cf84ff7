import Router from '@koa/router';
import type { Middleware } from 'koa';
import { z } from 'zod';
import { RegisterAgent } from '../../../commands/registerAgent.js';
import { AgentId, GroupName } from '../../../journal/ids.js';
import { agentView, type AgentRow } from '../../../projections/agentsReads.js';
import { ListAgentsQuery } from '../../../queries/agentsList.js';
import { principalOf } from '../auth.js';
import { readJson } from '../body.js';
import type { HttpDeps } from '../deps.js';
import { HttpError } from '../problem.js';
import { describe } from '../routeDocs.js';
import { BASE_PATH } from '../basePath.js';

const UuidParams = z.object({ uuid: AgentId });
export const AgentViewSchema = z.object({
  uuid: z.string(),
  name: z.string(),
  groups: z.array(z.string()),
  status: z.enum(['never_connected', 'active', 'disconnected']),
  connected: z.boolean(),
  last_seen: z.string().nullable(),
  last_event_seq: z.number().int().nullable(),
  registered_at: z.string(),
  type: z.string().nullable().describe('agent type as reported (the Wazuh agent: "Endpoint")'),
  version: z.string().nullable().describe('agent version as reported'),
  host: z
    .object({
      hostname: z.string().nullable(),
      architecture: z.string().nullable(),
      ip: z.array(z.string()),
      os: z.object({ name: z.string().nullable(), version: z.string().nullable(), type: z.string().nullable(), platform: z.string().optional() }),
    })
    .nullable()
    .describe('host facts from the enrollment and the agent line of event batches; null when never reported'),
});
const AgentList = z.object({
  agents: z.array(AgentViewSchema),
  next_cursor: z.string().nullable(),
  counts: z.object({ active: z.number().int(), disconnected: z.number().int(), never_connected: z.number().int() }),
});
const Registered = z.object({ uuid: z.string(), name: z.string(), groups: z.array(z.string()), registered_at: z.string() });

describe({
  method: 'post',
  path: '/agents',
  tags: ['agents'],
  auth: ['operator'],
  summary: 'Register an agent',
  body: { schema: RegisterAgent },
  responses: { 201: { description: 'registered', schema: Registered }, 409: { description: 'the uuid is already registered' } },
});
describe({
  method: 'get',
  path: '/agents',
  tags: ['agents'],
  auth: ['operator', 'auditor'],
  summary: 'List agents with their status',
  description:
    '`status`: `active` when a stream is open or the agent was seen in the last 5 minutes, `disconnected` when seen ' +
    'before that, `never_connected` otherwise. Filters: `status`, `group`, `os` (host os name or platform, any case), ' +
    '`version` (agent version), `q` (a prefix of the name or uuid); `sort` = `uuid` (default), `name`, `registered_at`, ' +
    '`last_seen`, `-` first for descending. `counts` are by status over every agent matching the other filters. ' +
    'Pass `next_cursor` as `cursor` for the next page (with the same filters); an unknown parameter is 400.',
  query: ListAgentsQuery,
  responses: { 200: { description: 'a page of agents', schema: AgentList } },
});
describe({
  method: 'get',
  path: '/agents/:uuid',
  tags: ['agents'],
  auth: ['operator', 'auditor'],
  summary: 'One agent with its status',
  params: UuidParams,
  responses: { 200: { description: 'the agent', schema: AgentViewSchema } },
});
describe({
  method: 'delete',
  path: '/agents/:uuid',
  tags: ['agents'],
  auth: ['operator'],
  summary: "Delete an agent; its tokens are refused at once and its streams closed",
  params: UuidParams,
  responses: { 204: { description: 'deleted' } },
});

/** The ports these routes use, bound once by the composition root (main.ts passes its HttpDeps). */
export type AgentsRouteDeps = {
  commands: Pick<HttpDeps['commands'], 'deleteAgent' | 'registerAgent'>;
  hub: Pick<HttpDeps['hub'], 'disconnect' | 'isConnected'>;
  presence: Pick<HttpDeps['presence'], 'forget' | 'lastSeen'>;
  reads: Pick<HttpDeps['reads'], 'findAgent' | 'listAgents'>;
};

export function agentsRoutes(deps: AgentsRouteDeps, guard: (...roles: Array<'agent' | 'operator' | 'auditor'>) => Middleware[]): Router {
  const router = new Router();
  const view = (row: AgentRow) =>
    agentView(row, { connected: deps.hub.isConnected(row.uuid), seenAt: deps.presence.lastSeen(row.uuid) }, Date.now());

  router.post('/agents', ...guard('operator'), async (ctx) => {
    const cmd = await readJson(ctx, RegisterAgent);
    ctx.body = await deps.commands.registerAgent(cmd, principalOf(ctx).actor);
    ctx.status = 201;
    ctx.set('Location', `${BASE_PATH}/agents/${encodeURIComponent(cmd.uuid)}`);
  });

  router.get('/agents', ...guard('operator', 'auditor'), (ctx) => {
    const q = ListAgentsQuery.parse(ctx.query);
    const live = (uuid: string) => ({ connected: deps.hub.isConnected(uuid), seenAt: deps.presence.lastSeen(uuid) });
    const { rows, next_cursor, counts } = deps.reads.listAgents(q, live, Date.now());
    ctx.body = { agents: rows.map(view), next_cursor, counts };
  });

  router.get('/agents/:uuid', ...guard('operator', 'auditor'), (ctx) => {
    const { uuid } = UuidParams.parse(ctx.params);
    const row = deps.reads.findAgent(uuid);
    if (!row) throw new HttpError(404, 'Not Found', `agent ${uuid} is not registered`);
    ctx.body = view(row);
  });

  router.delete('/agents/:uuid', ...guard('operator'), async (ctx) => {
    const { uuid } = UuidParams.parse(ctx.params);
    await deps.commands.deleteAgent(uuid, principalOf(ctx).actor);
    deps.hub.disconnect(uuid);
    deps.presence.forget(uuid);
    ctx.status = 204;
  });

  return router;
}
