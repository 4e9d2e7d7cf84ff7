import Router from '@koa/router';
import type { Middleware } from 'koa';
import { z } from 'zod';
import type { HttpDeps } from '../deps.js';
import { describe } from '../routeDocs.js';

describe({
  method: 'get',
  path: '/journal/verify',
  tags: ['journal'],
  auth: ['auditor'],
  summary: 'Verify the hash chain of the journal',
  description: 'Walks every entry from the anchor (genesis, or the last pruned entry); the first changed, removed or reordered entry is `first_bad_seq`.',
  responses: {
    200: {
      description: 'the result',
      schema: z.object({ ok: z.boolean(), checked: z.number().int(), first_bad_seq: z.number().int().optional() }),
    },
  },
});

type Guard = (...roles: Array<'agent' | 'operator' | 'auditor'>) => Middleware[];

export function auditRoutes(deps: HttpDeps, guard: Guard): Router {
  const router = new Router();

  /** Walks the hash chain: `{ok, checked, first_bad_seq?}`. */
  router.get('/journal/verify', ...guard('auditor'), (ctx) => {
    ctx.body = deps.journal.verify();
  });

  return router;
}
