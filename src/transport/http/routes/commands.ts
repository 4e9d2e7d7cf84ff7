import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import { IssueCommand } from '../../../commands/issueCommand.js';
import { CommandResult } from '../../../commands/recordCommandResult.js';
import { asAgentId, CommandId } from '../../../journal/ids.js';
import { HistoryQuery } from '../../../queries/commandHistory.js';
import type { PendingCommand } from '../../../projections/commandsReads.js';
import { connectAgent, openCommandStream, settleAgent } from '../../sse/commandStream.js';
import { principalOf } from '../auth.js';
import { readJson } from '../body.js';
import type { HttpDeps } from '../deps.js';
import { HttpError } from '../problem.js';
import { describe } from '../routeDocs.js';
import { BASE_PATH } from '../basePath.js';
import { sendNdjson } from '../ndjson.js';

type Guard = (...roles: Array<'agent' | 'operator' | 'auditor'>) => Middleware[];

/** Query of the long-poll mode: `wait` seconds (0–900), `after` = the `cursor` of the previous answer. */
export const LongPollQuery = z.object({
  wait: z.coerce.number().int().min(0).max(900).default(30),
  after: z.coerce.number().int().min(0).optional(),
});

const AgentCommand = z.object({
  id: z.string(),
  /** = id: where the existing Wazuh agent reads a command's id. */
  document_id: z.string(),
  action: z.object({ name: z.string(), args: z.unknown(), version: z.string() }),
  target: z.object({ type: z.enum(['agent', 'group', 'all']), id: z.string().optional() }),
  issued_at: z.string(),
  expires_at: z.string(),
});
const TargetStateName = z.enum(['pending', 'delivered', 'success', 'failure', 'expired', 'cancelled']);
const IdParams = z.object({ id: CommandId });
const Issued = z.object({
  id: z.string(),
  targets: z.number().int(),
  issued_at: z.string(),
  expires_at: z.string(),
  durability: z.enum(['journaled', 'indexed']),
});
const CommandDetails = AgentCommand.extend({
  issued_by: z.string(),
  seq: z.number().int(),
  counts: z.record(TargetStateName, z.number().int()),
  targets: z.array(
    z.object({
      agent: z.string(),
      state: TargetStateName,
      delivered_at: z.string().optional(),
      finished_at: z.string().optional(),
      code: z.number().int().optional(),
      message: z.string().optional(),
      data: z.unknown().optional(),
    }),
  ),
});
const HistoryPage = z.object({
  items: z.array(
    z.object({
      seq: z.number().int(),
      time: z.string(),
      command: z.string(),
      agent: z.string().nullable(),
      action: z.string(),
      type: z.string(),
      state: TargetStateName,
      actor: z.string(),
      code: z.number().int().optional(),
      message: z.string().optional(),
    }),
  ),
  next_cursor: z.string().nullable(),
});

describe({
  method: 'get',
  path: '/commands',
  tags: ['commands'],
  auth: ['agent'],
  summary: "The agent's commands: server-sent events, or long-poll JSON",
  description:
    'With `Accept: text/event-stream`: a `retry:` hint, then every command the agent has not reported on and that has ' +
    'not expired (also after a reconnect with `Last-Event-ID`: a command is re-offered on each new connection until ' +
    'the agent reports a result), then live ones as they are issued. Frames: `id: <cursor>` (the journal seq of the ' +
    'CommandIssued entry), `event: command` or `event: config`, `data: <JSON>`; a `:` comment line every 15 s. ' +
    'When the token expires or is revoked the stream ends with `event: reauth`, `data: {"reason":"expired"|"revoked"}`: ' +
    'log in again and reconnect. ' +
    'Otherwise long-poll: answers as soon as a command not yet delivered is waiting (after the `after` cursor, when ' +
    'given), or with `[]` after `wait` seconds. A long-poll answers each command to an agent once; a delivered command ' +
    'without a result is not offered again by long-poll (a stream re-offers it after a reconnect). Commands returned ' +
    'either way count as delivered. Each command carries `document_id` (= `id`), where the existing Wazuh agent reads it.',
  query: LongPollQuery,
  headers: [
    { name: 'Accept', description: '`text/event-stream` selects the stream' },
    { name: 'Last-Event-ID', description: 'the last cursor seen; the stream re-offers every unreported command anyway' },
  ],
  responses: { 200: { description: 'the commands (long-poll JSON; an SSE stream when asked for)', schema: z.object({ commands: z.array(AgentCommand), cursor: z.number().int() }) } },
});
describe({
  method: 'post',
  path: '/commands',
  tags: ['commands'],
  auth: ['operator'],
  summary: 'Issue a command (operators, and local components over the admin socket without a token)',
  description:
    '`args` are validated against the catalogue (400 naming the field), the target type must be allowed by the ' +
    'action. A group is expanded to its members when the command is issued; `all` is every registered agent. A target ' +
    'that resolves to no agent (unknown agent, group without members) is 400. `timeout` (seconds) defaults to the ' +
    "action's `default_timeout`; `version` defaults to \"1\". `set-group` replaces the target agents' groups at issue time. " +
    'Durability: on one node (no indexer) the answer comes once the command is in the journal (`durability: \"journaled\"`). ' +
    'In cluster mode (an indexer URL) it comes once every target\'s document is also in the shared commands index ' +
    '(`durability: \"indexed\"`): any node can then deliver it, even if this one dies right after answering. When the index ' +
    'does not take it within 5 s (refused, unreachable, retryable failures until then), the answer is 503 with `Retry-After` ' +
    'and `command` (its id) in the problem: the command is journaled as issued and at once cancelled (actor `system`, the ' +
    'reason as the message, in the history), so no node ever offers it; issue it again.',
  body: { schema: IssueCommand },
  responses: {
    201: { description: 'issued', schema: Issued, headers: { Location: 'the command' } },
    404: { description: 'unknown action' },
    503: { description: 'cluster mode: the commands index did not take the command in time; it was cancelled (problem+json with `command`, `Retry-After`)' },
  },
});
describe({
  method: 'get',
  path: '/commands/history',
  tags: ['commands'],
  auth: ['operator', 'auditor'],
  summary: 'Every per-agent state change of commands, in journal order',
  description:
    '`user` matches the actor (`alice` matches `user:alice`; `admin-socket`, `system`, `agent:<uuid>`, `api-key:<id>` are matched as written). ' +
    'Pages with `cursor` = the previous `next_cursor`. Success and failure items carry the result `code` and `message`. ' +
    '`format=ndjson` answers every matching item (from `cursor` on), one JSON object a line.',
  query: HistoryQuery,
  responses: { 200: { description: 'one page (or NDJSON lines of items with format=ndjson)', schema: HistoryPage } },
});
describe({
  method: 'get',
  path: '/commands/:id',
  tags: ['commands'],
  auth: ['operator', 'auditor'],
  summary: 'A command and the state of each of its targets',
  params: IdParams,
  responses: { 200: { description: 'the command', schema: CommandDetails } },
});
describe({
  method: 'post',
  path: '/commands/:id/cancel',
  tags: ['commands'],
  auth: ['operator'],
  summary: 'Cancel a command: its targets that have not finished become `cancelled`',
  description:
    'Each pending or delivered target becomes `cancelled` (a `CommandCancelled` entry per agent, with the actor, shown in ' +
    'the history); agents that have not received the command never will, and a later result from an agent is 409. ' +
    'Finished targets keep their state; cancelling again changes nothing. Answers the command as `GET /commands/{id}` does.',
  params: IdParams,
  responses: { 200: { description: 'the command after the cancellation', schema: CommandDetails } },
});
describe({
  method: 'post',
  path: '/commands/:id/result',
  tags: ['commands'],
  auth: ['agent'],
  summary: 'Report the result of a command (a target agent only)',
  description: 'A stateful event with `module: "command"` and `id` = the command id does the same.',
  params: IdParams,
  body: { schema: CommandResult },
  responses: {
    204: { description: 'recorded' },
    403: { description: 'the agent is not a target of this command' },
    409: { description: 'the agent already reported, or the command expired' },
    503: { description: 'scale-out: a command unknown to this node cannot be looked up in the indexer right now (`Retry-After`)' },
  },
});

const wantsEventStream = (ctx: Context): boolean => /\btext\/event-stream\b/i.test(ctx.get('Accept'));

/** The ports these routes use, bound once by the composition root (main.ts passes its HttpDeps). */
export type CommandsRouteDeps = Pick<HttpDeps, 'hub' | 'scaleOut'> & {
  commands: Pick<HttpDeps['commands'], 'cancelCommand' | 'issueCommand' | 'markCommandDelivered' | 'recordCommandResult'>;
  logger: Pick<HttpDeps['logger'], 'warn'>;
  reads: Pick<HttpDeps['reads'], 'commandDetails' | 'commandHistory' | 'pendingCommands'>;
};

export function commandsRoutes(deps: CommandsRouteDeps, guard: Guard): Router {
  const router = new Router();

  /** SSE: the agent's unreported commands first (read in the same tick the stream is registered), then live ones. */
  async function openStream(ctx: Context): Promise<void> {
    const { sub: agent, expiresAt } = principalOf(ctx);
    if (deps.hub.closed()) throw new HttpError(503, 'Service Unavailable', 'the server is stopping', {}, { 'Retry-After': '5' });
    ctx.status = 200;
    ctx.respond = false;
    await openCommandStream(
      { hub: deps.hub, pendingCommands: deps.reads.pendingCommands, agentConnected: (a) => connectAgent(deps, a), settleAgent: (a) => settleAgent(deps, a) },
      agent,
      ctx.res,
      expiresAt,
    );
  }

  /**
   * Long-poll: answers as soon as a command not yet delivered to the agent is waiting (after
   * `after`, when given), or with [] after `wait` seconds. Each command is answered to an agent
   * once: the answer holds only the commands this request moved from pending to delivered (the
   * existing Wazuh agent stores commands by id and fails on a repeat). A delivered command without
   * a result is not offered again by long-poll; an SSE stream re-offers it on each new connection.
   */
  async function longPoll(ctx: Context): Promise<void> {
    const q = LongPollQuery.parse(ctx.query);
    const agent = principalOf(ctx).sub;
    const waiting = (): PendingCommand[] =>
      deps.reads.pendingCommands(agent, Date.now()).filter((p) => p.state === 'pending' && (q.after === undefined || p.cursor > q.after));
    const deadline = Date.now() + q.wait * 1000;
    const gone = new AbortController();
    ctx.res.once('close', () => gone.abort());
    // scale-out: the agent's commands issued on other nodes first; later ones come while it waits here
    await deps.scaleOut?.agentConnected(agent).catch((err: unknown) => deps.logger.warn({ err, agent }, 'importing the agent’s commands failed'));
    await settleAgent(deps, agent);
    let items: PendingCommand[] = [];
    for (;;) {
      items = waiting();
      if (items.length > 0 && !gone.signal.aborted) {
        const fresh = new Set((await deps.commands.markCommandDelivered(items.map((p) => ({ agent, id: p.command.id })))).map((d) => d.id));
        items = items.filter((p) => fresh.has(p.command.id));
        if (items.length > 0) break;
      }
      if (deps.hub.closed() || gone.signal.aborted || Date.now() >= deadline) break;
      await deps.hub.waitFor(agent, deadline - Date.now(), gone.signal);
    }
    const cursor = items.reduce((max, p) => Math.max(max, p.cursor), q.after ?? 0);
    ctx.body = { commands: items.map((p) => p.command), cursor };
  }

  router.get('/commands', ...guard('agent'), async (ctx) => {
    if (wantsEventStream(ctx)) return openStream(ctx);
    await longPoll(ctx);
  });

  router.post('/commands', ...guard('operator'), async (ctx) => {
    const cmd = await readJson(ctx, IssueCommand);
    const issued = await deps.commands.issueCommand(cmd, principalOf(ctx).actor);
    ctx.status = 201;
    ctx.set('Location', `${BASE_PATH}/commands/${issued.id}`);
    ctx.body = issued;
  });

  router.get('/commands/history', ...guard('operator', 'auditor'), (ctx) => {
    const q = HistoryQuery.parse(ctx.query);
    if (q.format === 'ndjson') {
      return sendNdjson(ctx, (cursor) => deps.reads.commandHistory({ ...q, limit: 1000, cursor: cursor === undefined ? q.cursor : HistoryQuery.shape.cursor.parse(cursor) }));
    }
    ctx.body = deps.reads.commandHistory(q);
  });

  router.get('/commands/:id', ...guard('operator', 'auditor'), (ctx) => {
    const id = CommandId.parse(ctx.params.id);
    const details = deps.reads.commandDetails(id);
    if (!details) throw new HttpError(404, 'Not Found', `no command ${id}`);
    ctx.body = details;
  });

  router.post('/commands/:id/cancel', ...guard('operator'), async (ctx) => {
    const id = CommandId.parse(ctx.params.id);
    await deps.commands.cancelCommand(id, principalOf(ctx).actor);
    ctx.body = deps.reads.commandDetails(id);
  });

  router.post('/commands/:id/result', ...guard('agent'), async (ctx) => {
    const id = CommandId.parse(ctx.params.id);
    const result = await readJson(ctx, CommandResult);
    await deps.commands.recordCommandResult(asAgentId(principalOf(ctx).sub), id, result);
    ctx.status = 204;
  });

  return router;
}
