import Router from '@koa/router';
import type { Middleware } from 'koa';
import { z } from 'zod';
import type { Role } from '../../../security/tokens.js';
import { principalOf } from '../auth.js';
import type { HttpDeps } from '../deps.js';
import { describeTag } from '../routeDocs.js';

const doc = describeTag('operations');

const ListQuery = z.object({
  sink: z.enum(['engine', 'indexer']).optional(),
  all: z.enum(['true', 'false', '1', '0']).optional(),
  after: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
const IdParams = z.object({ id: z.coerce.number().int().min(1) });
const DeadLetter = z.object({
  id: z.number(),
  sink: z.string(),
  seq: z.number(),
  reason: z.string(),
  created_at: z.string(),
  retried_at: z.string().optional(),
  resolved: z.boolean(),
  item: z.unknown(),
});

doc('get', '/dead-letters', {
  auth: ['operator'],
  summary: 'Items a sink refused, with the reason and the journal seq',
  description: 'Open ones only unless `all=true`; `after` is the id cursor (`next_cursor` of the previous page).',
  query: ListQuery,
  responses: { 200: { description: 'a page', schema: z.object({ dead_letters: z.array(DeadLetter), next_cursor: z.number().optional() }) } },
});
doc('post', '/dead-letters/:id/retry', {
  auth: ['operator'],
  summary: 'Send a dead-lettered item to its sink again',
  description: 'On success the dead letter is resolved and a `DeadLetterRetried` entry journaled.',
  params: IdParams,
  responses: {
    200: { description: 'delivered', schema: z.object({ id: z.number(), sink: z.string(), seq: z.number(), resolved: z.literal(true) }) },
    409: { description: 'already delivered, or the sink refused it again (the detail says why)' },
    503: { description: 'the sink is unavailable; Retry-After' },
  },
});

doc('post', '/dead-letters/:id/discard', {
  auth: ['operator'],
  summary: 'Give up on a dead letter: resolved without sending it',
  description: 'Journaled as `DeadLetterDiscarded` with the actor (the audit trail shows it).',
  params: IdParams,
  responses: {
    200: { description: 'discarded', schema: z.object({ id: z.number(), sink: z.string(), seq: z.number(), resolved: z.literal(true) }) },
    409: { description: 'already resolved' },
  },
});

/** The ports these routes use, bound once by the composition root (main.ts passes its HttpDeps). */
export type DeadLettersRouteDeps = {
  commands: Pick<HttpDeps['commands'], 'discardDeadLetter'>;
  drain: Pick<HttpDeps['drain'], 'retryDeadLetter'>;
  journal: Pick<HttpDeps['journal'], 'listDeadLetters'>;
};

export function deadLetterRoutes(deps: DeadLettersRouteDeps, guard: (...roles: Role[]) => Middleware[]): Router {
  const router = new Router();

  router.get('/dead-letters', ...guard('operator'), (ctx) => {
    const q = ListQuery.parse(ctx.query);
    const page = deps.journal.listDeadLetters({ sink: q.sink, all: q.all === 'true' || q.all === '1', afterId: q.after, limit: q.limit });
    ctx.body = { dead_letters: page, ...(page.length === q.limit ? { next_cursor: page[page.length - 1]!.id } : {}) };
  });

  router.post('/dead-letters/:id/retry', ...guard('operator'), async (ctx) => {
    const { id } = IdParams.parse(ctx.params);
    ctx.body = await deps.drain.retryDeadLetter(id, principalOf(ctx).actor);
  });

  router.post('/dead-letters/:id/discard', ...guard('operator'), async (ctx) => {
    const { id } = IdParams.parse(ctx.params);
    ctx.body = await deps.commands.discardDeadLetter(id, principalOf(ctx).actor);
  });

  return router;
}
