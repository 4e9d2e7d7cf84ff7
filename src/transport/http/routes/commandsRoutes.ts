import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import { IssueCommand } from '../../../commands/issueCommand.js';
import { CommandResult } from '../../../commands/recordCommandResult.js';
import { asAgentId, CommandId } from '../../../journal/ids.js';
import { commandHistory, HistoryQuery } from '../../../queries/commandHistory.js';
import { commandDetails, pendingCommands, type PendingCommand } from '../../../queries/commands.js';
import { principalOf } from '../auth.js';
import { readJson } from '../body.js';
import type { HttpDeps } from '../deps.js';
import { HttpError } from '../problem.js';

type Guard = (...roles: Array<'agent' | 'operator' | 'auditor'>) => Middleware[];

/** Query of the long-poll mode: `wait` seconds (0–900), `after` = the `cursor` of the previous answer. */
export const LongPollQuery = z.object({
  wait: z.coerce.number().int().min(0).max(900).default(30),
  after: z.coerce.number().int().min(0).optional(),
});

const wantsEventStream = (ctx: Context): boolean => /\btext\/event-stream\b/i.test(ctx.get('Accept'));

export function commandsRoutes(deps: HttpDeps, guard: Guard): Router {
  const router = new Router();
  const db = deps.journal.db;

  /** SSE: the agent's unreported commands first (read in the same tick the stream is registered), then live ones. */
  function openStream(ctx: Context): void {
    const agent = principalOf(ctx).sub;
    const backlog = pendingCommands(db, agent, Date.now());
    ctx.status = 200;
    ctx.respond = false;
    deps.hub.open(agent, ctx.res, backlog);
  }

  /** Long-poll: answers as soon as a command is waiting after `after`, or with [] after `wait` seconds. */
  async function longPoll(ctx: Context): Promise<void> {
    const q = LongPollQuery.parse(ctx.query);
    const agent = principalOf(ctx).sub;
    const waiting = (): PendingCommand[] =>
      pendingCommands(db, agent, Date.now()).filter((p) => q.after === undefined || p.cursor > q.after);
    const deadline = Date.now() + q.wait * 1000;
    const gone = new AbortController();
    ctx.res.once('close', () => gone.abort());
    let items = waiting();
    while (items.length === 0 && !deps.hub.closed() && !gone.signal.aborted && Date.now() < deadline) {
      await deps.hub.waitFor(agent, deadline - Date.now(), gone.signal);
      items = waiting();
    }
    const fresh = items.filter((p) => p.state === 'pending').map((p) => ({ agent, id: p.command.id }));
    if (fresh.length > 0) await deps.commands.markCommandDelivered(fresh);
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
    ctx.set('Location', `/api/v1/commands/${issued.id}`);
    ctx.body = issued;
  });

  router.get('/commands/history', ...guard('operator', 'auditor'), (ctx) => {
    ctx.body = commandHistory(db, HistoryQuery.parse(ctx.query));
  });

  router.get('/commands/:id', ...guard('operator', 'auditor'), (ctx) => {
    const id = CommandId.parse(ctx.params.id);
    const details = commandDetails(db, id);
    if (!details) throw new HttpError(404, 'Not Found', `no command ${id}`);
    ctx.body = details;
  });

  router.post('/commands/:id/result', ...guard('agent'), async (ctx) => {
    const id = CommandId.parse(ctx.params.id);
    const result = await readJson(ctx, CommandResult);
    await deps.commands.recordCommandResult(asAgentId(principalOf(ctx).sub), id, result);
    ctx.status = 204;
  });

  return router;
}
