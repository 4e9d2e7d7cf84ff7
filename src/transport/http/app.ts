import Router from '@koa/router';
import Koa, { type Middleware } from 'koa';
import { authenticate, requireRole } from './auth.js';
import type { HttpDeps } from './deps.js';
import { problemJson } from './problem.js';
import { agentsRoutes } from './routes/agentsRoutes.js';
import { authRoutes, createLogin } from './routes/authRoutes.js';
import { enrollmentRoutes } from './routes/enrollmentRoutes.js';
import { auditRoutes } from './routes/auditRoutes.js';
import { catalogRoutes } from './routes/catalogRoutes.js';
import { commandsRoutes } from './routes/commandsRoutes.js';
import { eventsRoutes } from './routes/eventsRoutes.js';
import { healthRoutes } from './routes/healthRoutes.js';
import { statefulRoutes } from './routes/statefulRoutes.js';
import { journalRoutes } from './routes/journalRoutes.js';
import { deadLetterRoutes } from './routes/deadLetterRoutes.js';
import { configurationRoutes } from './routes/configurationRoutes.js';
import { groupsRoutes } from './routes/groupsRoutes.js';
import { metricsRoutes, opsRoutes } from './routes/opsRoutes.js';
import { packagesRoutes } from './routes/packagesRoutes.js';
import { usersRoutes } from './routes/usersRoutes.js';
import { requestLog } from './middleware/requestLog.js';
import { consoleAssets } from './middleware/consoleAssets.js';
import type { Role } from '../../security/tokens.js';

export const BASE_PATH = '/api/v1';

/** The Koa application: problem+json first, then the routers under /api/v1. */
export function createApp(deps: HttpDeps): { app: Koa; router: Router; rootRouter: Router } {
  const app = new Koa({ proxy: false });
  app.silent = true;
  const auth = authenticate({
    publicKey: deps.keys.publicKey,
    db: deps.journal.db,
    ...(deps.scaleOut ? { admitAgent: deps.scaleOut.admitAgent } : {}),
  });
  const guard = (...roles: Role[]): Middleware[] => [auth, requireRole(...roles)];

  const login = createLogin(deps);
  const router = new Router({ prefix: BASE_PATH });
  for (const r of [healthRoutes(deps), authRoutes(deps, guard, login), agentsRoutes(deps, guard), eventsRoutes(deps, guard), groupsRoutes(deps, guard), configurationRoutes(deps, guard), packagesRoutes(deps, guard), opsRoutes(), commandsRoutes(deps, guard), catalogRoutes(deps, guard), auditRoutes(deps, guard), statefulRoutes(deps, guard), journalRoutes(deps, guard), deadLetterRoutes(deps, guard), usersRoutes(deps, guard)]) {
    router.use(r.routes());
  }

  // Not thrown: the router sets 405 + Allow (or 501 for unknown methods), problemJson answers 405 for both.
  const allowed = { throw: false };
  // Routes outside /api/v1: GET /metrics, and the existing Wazuh agent's enrollment (it keeps only scheme, host and port).
  const rootRouter = metricsRoutes(deps, guard);
  rootRouter.use(enrollmentRoutes(deps, guard, login).routes());

  app.use(requestLog({ logger: deps.logger, metrics: deps.metrics, presence: deps.presence }));
  app.use(
    problemJson({
      onServerError: (err, ctx) => deps.logger.error({ err, method: ctx.method, path: ctx.path }, 'request failed'),
    }),
  );
  app.use(consoleAssets());
  app.use(router.routes());
  app.use(router.allowedMethods(allowed));
  app.use(rootRouter.routes());
  app.use(rootRouter.allowedMethods(allowed));
  return { app, router, rootRouter };
}
