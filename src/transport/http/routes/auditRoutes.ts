import Router from '@koa/router';
import type { Middleware } from 'koa';
import { verifyChain } from '../../../journal/verifyChain.js';
import type { HttpDeps } from '../deps.js';

type Guard = (...roles: Array<'agent' | 'operator' | 'auditor'>) => Middleware[];

export function auditRoutes(deps: HttpDeps, guard: Guard): Router {
  const router = new Router();

  /** Walks the hash chain: `{ok, checked, first_bad_seq?}`. */
  router.get('/journal/verify', ...guard('auditor'), (ctx) => {
    ctx.body = verifyChain(deps.journal.db);
  });

  return router;
}
