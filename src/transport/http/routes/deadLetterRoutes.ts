import Router from '@koa/router';
import type { Middleware } from 'koa';
import { z } from 'zod';
import {
  DeadLetterResolvedError,
  SinkUnavailableError,
  StillFailingError,
  UnknownDeadLetterError,
} from '../../../commands/retryDeadLetter.js';
import { listDeadLetters } from '../../../queries/deadLetters.js';
import type { Role } from '../../../security/tokens.js';
import { principalOf } from '../auth.js';
import type { HttpDeps } from '../deps.js';
import { HttpError } from '../problem.js';
import { describe } from '../routeDocs.js';

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

describe({
  method: 'get',
  path: '/dead-letters',
  tags: ['operations'],
  auth: ['operator'],
  summary: 'Items a sink refused, with the reason and the journal seq',
  description: 'Open ones only unless `all=true`; `after` is the id cursor (`next_cursor` of the previous page).',
  query: ListQuery,
  responses: { 200: { description: 'a page', schema: z.object({ dead_letters: z.array(DeadLetter), next_cursor: z.number().optional() }) } },
});
describe({
  method: 'post',
  path: '/dead-letters/:id/retry',
  tags: ['operations'],
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

describe({
  method: 'post',
  path: '/dead-letters/:id/discard',
  tags: ['operations'],
  auth: ['operator'],
  summary: 'Give up on a dead letter: resolved without sending it',
  description: 'Journaled as `DeadLetterDiscarded` with the actor (the audit trail shows it).',
  params: IdParams,
  responses: {
    200: { description: 'discarded', schema: z.object({ id: z.number(), sink: z.string(), seq: z.number(), resolved: z.literal(true) }) },
    409: { description: 'already resolved' },
  },
});

function retryError(err: unknown): unknown {
  if (err instanceof UnknownDeadLetterError) return new HttpError(404, 'Not Found', err.message);
  if (err instanceof DeadLetterResolvedError || err instanceof StillFailingError) return new HttpError(409, 'Conflict', err.message);
  if (err instanceof SinkUnavailableError) {
    return new HttpError(503, 'Service Unavailable', err.message, {}, { 'Retry-After': String(err.retryAfter) });
  }
  return err;
}

export function deadLetterRoutes(deps: HttpDeps, guard: (...roles: Role[]) => Middleware[]): Router {
  const router = new Router();

  router.get('/dead-letters', ...guard('operator'), (ctx) => {
    const q = ListQuery.parse(ctx.query);
    const page = listDeadLetters(deps.journal.db, { sink: q.sink, all: q.all === 'true' || q.all === '1', afterId: q.after, limit: q.limit });
    ctx.body = { dead_letters: page, ...(page.length === q.limit ? { next_cursor: page[page.length - 1]!.id } : {}) };
  });

  router.post('/dead-letters/:id/retry', ...guard('operator'), async (ctx) => {
    const { id } = IdParams.parse(ctx.params);
    try {
      ctx.body = await deps.drain.retryDeadLetter(id, principalOf(ctx).actor);
    } catch (err) {
      throw retryError(err);
    }
  });

  router.post('/dead-letters/:id/discard', ...guard('operator'), async (ctx) => {
    const { id } = IdParams.parse(ctx.params);
    try {
      ctx.body = await deps.commands.discardDeadLetter(id, principalOf(ctx).actor);
    } catch (err) {
      throw retryError(err);
    }
  });

  return router;
}
