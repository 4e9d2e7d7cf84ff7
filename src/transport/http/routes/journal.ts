import Router from '@koa/router';
import type { Middleware } from 'koa';
import { z } from 'zod';
import { AgentId } from '../../../journal/ids.js';
import type { Role } from '../../../security/tokens.js';
import { readJson } from '../body.js';
import type { HttpDeps } from '../deps.js';
import { HttpError } from '../problem.js';
import { describe } from '../routeDocs.js';
import { BASE_PATH } from '../basePath.js';
import type { ReplayProgress } from '../../../pipelines/replays.js';

const seq = z.number().int().min(0);
export const ReplayRequest = z
  .object({
    to: z.literal('engine'),
    from_seq: seq.optional(),
    to_seq: seq.optional(),
    since: z.iso.datetime({ offset: true }).optional(),
    until: z.iso.datetime({ offset: true }).optional(),
    agent: AgentId.optional(),
    dry_run: z.boolean().optional(),
  })
  .strict()
  .refine((r) => r.from_seq === undefined || r.to_seq === undefined || r.from_seq <= r.to_seq, {
    message: 'from_seq must not be after to_seq',
    path: ['from_seq'],
  })
  .refine((r) => !r.since || !r.until || Date.parse(r.since) <= Date.parse(r.until), {
    message: 'since must not be after until',
    path: ['since'],
  });
const ReplayParams = z.object({ id: z.string().uuid() });
const Progress = z.object({
  id: z.string(),
  to: z.literal('engine'),
  state: z.enum(['running', 'done', 'failed', 'cancelled']),
  dry_run: z.boolean(),
  total: z.number(),
  sent: z.number(),
  started_at: z.string(),
  finished_at: z.string().optional(),
  error: z.string().optional(),
  /** Once finished: what was sent, as `comms-api replay` prints it. */
  summary: z
    .object({
      dry_run: z.boolean(),
      batches: z.number(),
      total: z.number(),
      sent: z.number(),
      requests: z.number(),
      rejected: z.number(),
      first_seq: z.number().nullable(),
      last_seq: z.number().nullable(),
      duration_ms: z.number(),
      errors: z.array(z.string()),
    })
    .optional(),
});

describe({
  method: 'get',
  path: '/journal/stats',
  tags: ['operations'],
  auth: ['operator', 'auditor'],
  summary: 'Journal head, size, per-sink checkpoints and lag, pipelines, dead letters',
  description: '`size_bytes` (pages in use) is what `quota_bytes` (COMMS_API_JOURNAL_MAX_BYTES) limits; `file_bytes` is the database and WAL files on disk.',
  responses: { 200: { description: 'the statistics' } },
});
describe({
  method: 'post',
  path: '/journal/replay',
  tags: ['operations'],
  auth: ['operator'],
  summary: 'Replay a journal range to the engine',
  description:
    'Sends exactly the stateless events of the range (seqs and times inclusive, optionally one agent) in journal order, ' +
    'independent of the live pipeline, rate-limited by COMMS_API_REPLAY_RATE. `dry_run` only counts them.',
  body: { schema: ReplayRequest },
  responses: { 202: { description: 'started', schema: z.object({ id: z.string(), status_url: z.string() }) } },
});
describe({
  method: 'get',
  path: '/journal/replays/:id',
  tags: ['operations'],
  auth: ['operator'],
  summary: 'Progress of a replay',
  params: ReplayParams,
  responses: { 200: { description: 'progress', schema: Progress } },
});

describe({
  method: 'get',
  path: '/journal/replays',
  tags: ['operations'],
  auth: ['operator'],
  summary: 'The replays this server ran since it started (the last 100), newest first',
  responses: { 200: { description: 'the replays', schema: z.object({ replays: z.array(Progress), next_cursor: z.null() }) } },
});
describe({
  method: 'post',
  path: '/journal/replays/:id/cancel',
  tags: ['operations'],
  auth: ['operator'],
  summary: 'Stop a running replay (what was sent stays sent); its state becomes `cancelled`',
  params: ReplayParams,
  responses: { 200: { description: 'progress (the state may still be `running` for a moment)', schema: Progress } },
});

/** The ports these routes use, bound once by the composition root (main.ts passes its HttpDeps). */
export type JournalRouteDeps = {
  drain: Pick<HttpDeps['drain'], 'indexerHealth' | 'pipelines' | 'replays'>;
  journal: Pick<HttpDeps['journal'], 'quotaBytes' | 'stats'>;
};

export function journalRoutes(deps: JournalRouteDeps, guard: (...roles: Role[]) => Middleware[]): Router {
  const router = new Router();

  router.get('/journal/stats', ...guard('operator', 'auditor'), (ctx) => {
    ctx.body = {
      ...deps.journal.stats(),
      quota_bytes: deps.journal.quotaBytes,
      pipelines: deps.drain.pipelines(),
      indexer: deps.drain.indexerHealth(),
    };
  });

  router.post('/journal/replay', ...guard('operator'), async (ctx) => {
    const r = await readJson(ctx, ReplayRequest);
    const started = deps.drain.replays.start(
      {
        fromSeq: r.from_seq,
        toSeq: r.to_seq,
        since: r.since ? Date.parse(r.since) : undefined,
        until: r.until ? Date.parse(r.until) : undefined,
        agent: r.agent,
      },
      r.dry_run ?? false,
    );
    const url = `${BASE_PATH}/journal/replays/${started.id}`;
    ctx.status = 202;
    ctx.set('Location', url);
    ctx.body = { id: started.id, status_url: url };
  });

  const shown = (p: ReplayProgress) => {
    const { summary: _summary, ...progress } = p;
    return { ...progress, ...(p.summary ? { summary: p.summary } : {}) };
  };

  router.get('/journal/replays', ...guard('operator'), (ctx) => {
    ctx.body = { replays: deps.drain.replays.list().map(shown), next_cursor: null };
  });

  router.get('/journal/replays/:id', ...guard('operator'), (ctx) => {
    const { id } = ReplayParams.parse(ctx.params);
    const p = deps.drain.replays.get(id);
    if (!p) throw new HttpError(404, 'Not Found', `no replay ${id}`);
    ctx.body = shown(p);
  });

  router.post('/journal/replays/:id/cancel', ...guard('operator'), (ctx) => {
    const { id } = ReplayParams.parse(ctx.params);
    const p = deps.drain.replays.cancel(id);
    if (!p) throw new HttpError(404, 'Not Found', `no replay ${id}`);
    ctx.body = shown(p);
  });

  return router;
}
