import Router from '@koa/router';
import type { Middleware } from 'koa';
import { z } from 'zod';
import { RegisterAgent } from '../../../commands/registerAgent.js';
import { AgentId, GroupName } from '../../../journal/ids.js';
import { agentsPage, agentView, findAgent, type AgentRow } from '../../../queries/agents.js';
import { principalOf } from '../auth.js';
import { readJson } from '../body.js';
import type { HttpDeps } from '../deps.js';
import { HttpError } from '../problem.js';
import { describe } from '../routeDocs.js';

const UuidParams = z.object({ uuid: AgentId });
/** The cursor is the last uuid of the previous page, base64url-encoded (opaque to clients). */
const Cursor = z
  .string()
  .max(200)
  .regex(/^[A-Za-z0-9_-]*$/, 'not a cursor from this API')
  .transform((c, ctx) => {
    if (c === '') return ''; // an empty cursor is the first page
    const uuid = Buffer.from(c, 'base64url').toString('utf8');
    if (!AgentId.safeParse(uuid).success) {
      ctx.addIssue({ code: 'custom', message: 'not a cursor from this API' });
      return z.NEVER;
    }
    return uuid;
  });
export const ListAgentsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: Cursor.optional(),
  group: GroupName.optional(),
});
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
const AgentList = z.object({ agents: z.array(AgentViewSchema), next_cursor: z.string().nullable() });
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
    'before that, `never_connected` otherwise. Ordered by uuid; pass `next_cursor` as `cursor` for the next page.',
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

export function agentsRoutes(deps: HttpDeps, guard: (...roles: Array<'agent' | 'operator' | 'auditor'>) => Middleware[]): Router {
  const router = new Router();
  const view = (row: AgentRow) =>
    agentView(row, { connected: deps.hub.isConnected(row.uuid), seenAt: deps.presence.lastSeen(row.uuid) }, Date.now());

  router.post('/agents', ...guard('operator'), async (ctx) => {
    const cmd = await readJson(ctx, RegisterAgent);
    ctx.body = await deps.commands.registerAgent(cmd, principalOf(ctx).actor);
    ctx.status = 201;
    ctx.set('Location', `/api/v1/agents/${encodeURIComponent(cmd.uuid)}`);
  });

  router.get('/agents', ...guard('operator', 'auditor'), (ctx) => {
    const q = ListAgentsQuery.parse(ctx.query);
    const rows = agentsPage(deps.journal.db, { afterUuid: q.cursor ?? '', limit: q.limit + 1, group: q.group });
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    const next = rows.length > q.limit && last ? Buffer.from(last.uuid, 'utf8').toString('base64url') : null;
    ctx.body = { agents: page.map(view), next_cursor: next };
  });

  router.get('/agents/:uuid', ...guard('operator', 'auditor'), (ctx) => {
    const { uuid } = UuidParams.parse(ctx.params);
    const row = findAgent(deps.journal.db, uuid);
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
