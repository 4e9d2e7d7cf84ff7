import Router from '@koa/router';
import Koa, { type Middleware } from 'koa';
import { authenticate, requireRole } from './auth.js';
import type { HttpDeps } from './deps.js';
import { problemJson } from './problem.js';
import { agentsRoutes } from './routes/agentsRoutes.js';
import { authRoutes } from './routes/authRoutes.js';
import { eventsRoutes } from './routes/eventsRoutes.js';
import { healthRoutes } from './routes/healthRoutes.js';
import type { Role } from '../../security/tokens.js';

export const BASE_PATH = '/api/v1';

/** The Koa application: problem+json first, then the routers under /api/v1. */
export function createApp(deps: HttpDeps): { app: Koa; router: Router } {
  const app = new Koa({ proxy: false });
  app.silent = true;
  const auth = authenticate({ publicKey: deps.keys.publicKey, db: deps.journal.db });
  const guard = (...roles: Role[]): Middleware[] => [auth, requireRole(...roles)];

  const router = new Router({ prefix: BASE_PATH });
  for (const r of [healthRoutes(deps), authRoutes(deps), agentsRoutes(deps, guard), eventsRoutes(deps, guard)]) {
    router.use(r.routes());
  }

  app.use(
    problemJson({
      onServerError: (err, ctx) => deps.logger.error({ err, method: ctx.method, path: ctx.path }, 'request failed'),
    }),
  );
  app.use(router.routes());
  app.use(router.allowedMethods({ throw: true }));
  return { app, router };
}
