import type { IncomingMessage, ServerResponse } from 'node:http';
import Router from '@koa/router';
import Koa, { type Middleware } from 'koa';
import { createTokenCheck, requireRole } from './auth.js';
import { connectAgent, createCommandStreamHandover, settleAgent } from '../sse/commandStream.js';
import type { HttpDeps } from './deps.js';
import { problemJson } from './problem.js';
import { agentsRoutes } from './routes/agents.js';
import { authRoutes, createLogin } from './routes/auth.js';
import { enrollmentRoutes } from './routes/enrollment.js';
import { auditRoutes } from './routes/audit.js';
import { catalogRoutes } from './routes/catalog.js';
import { commandsRoutes } from './routes/commands.js';
import { eventsRoutes } from './routes/events.js';
import { healthRoutes } from './routes/health.js';
import { statefulRoutes } from './routes/stateful.js';
import { journalRoutes } from './routes/journal.js';
import { deadLetterRoutes } from './routes/deadLetters.js';
import { configurationRoutes } from './routes/configuration.js';
import { groupsRoutes } from './routes/groups.js';
import { metricsRoutes, opsRoutes } from './routes/ops.js';
import { packagesRoutes } from './routes/packages.js';
import { usersRoutes } from './routes/users.js';
import { requestLog, type RequestLogOptions } from './middleware/requestLog.js';
import { consoleAssets } from './middleware/consoleAssets.js';
import type { Role } from '../../security/tokens.js';
import { BASE_PATH } from './basePath.js';

export { BASE_PATH };

/** The Koa application: problem+json first, then the routers under /api/v1. */
export interface HttpApp {
  app: Koa;
  /** The server's request handler: agents' command streams handed over before Koa, everything else through Koa. */
  handler(req: IncomingMessage, res: ServerResponse): void;
  /** The agents' routes (events, login), tried before `router`. */
  agentRouter: Router;
  router: Router;
  rootRouter: Router;
}

export function createApp(deps: HttpDeps): HttpApp {
  const app = new Koa({ proxy: false });
  app.silent = true;
  const tokens = createTokenCheck({
    publicKey: deps.keys.publicKey,
    agentStanding: deps.reads.agentStanding,
    findUser: deps.reads.findUser,
    userRevokedAt: deps.reads.userRevokedAt,
    findApiKey: deps.reads.findApiKey,
    ...(deps.scaleOut ? { admitAgent: deps.scaleOut.admitAgent } : {}),
    ...(deps.sharedUsers ? { admitUser: deps.sharedUsers.admitUser, admitApiKey: deps.sharedUsers.admitApiKey } : {}),
  });
  const guard = (...roles: Role[]): Middleware[] => [tokens.middleware, requireRole(...roles)];

  const login = createLogin(deps);
  // What agents call all day (events, login) has a router of its own, tried first: @koa/router
  // matches a path against every route it has, which costs each request of a large fleet.
  const agentRouter = new Router({ prefix: BASE_PATH });
  for (const r of [eventsRoutes(deps, guard), statefulRoutes(deps, guard), authRoutes(deps, guard, login)]) agentRouter.use(r.routes());
  const router = new Router({ prefix: BASE_PATH });
  for (const r of [healthRoutes(deps), agentsRoutes(deps, guard), groupsRoutes(deps, guard), configurationRoutes(deps, guard), packagesRoutes(deps, guard), opsRoutes(), commandsRoutes(deps, guard), catalogRoutes(deps, guard), auditRoutes(deps, guard), journalRoutes(deps, guard), deadLetterRoutes(deps, guard), usersRoutes(deps, guard)]) {
    router.use(r.routes());
  }

  // Not thrown: the router sets 405 + Allow (or 501 for unknown methods), problemJson answers 405 for both.
  const allowed = { throw: false };
  // Routes outside /api/v1: GET /metrics, and the existing Wazuh agent's enrollment (it keeps only scheme, host and port).
  const rootRouter = metricsRoutes(deps, guard);
  rootRouter.use(enrollmentRoutes(deps, guard, login).routes());

  const log: RequestLogOptions = { logger: deps.logger, metrics: deps.metrics, presence: deps.presence };
  app.use(requestLog(log));
  app.use(
    problemJson({
      onServerError: (err, ctx) => deps.logger.error({ err, method: ctx.method, path: ctx.path }, 'request failed'),
    }),
  );
  app.use(consoleAssets());
  app.use(agentRouter.routes());
  app.use(agentRouter.allowedMethods(allowed));
  app.use(router.routes());
  app.use(router.allowedMethods(allowed));
  app.use(rootRouter.routes());
  app.use(rootRouter.allowedMethods(allowed));
  const koa = app.callback();
  const handOver = createCommandStreamHandover({
    path: `${BASE_PATH}/commands`,
    principalOfToken: tokens.principalOfToken,
    hub: deps.hub,
    pendingCommands: deps.reads.pendingCommands,
    agentConnected: (agent) => connectAgent(deps, agent),
    settleAgent: (agent) => settleAgent(deps, agent),
    log,
  });
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    handOver(req, res).then(
      (taken) => taken || void koa(req, res),
      (err: unknown) => {
        deps.logger.error({ err }, 'handing a command stream over failed');
        if (!res.headersSent) void koa(req, res);
      },
    );
  };
  return { app, handler, agentRouter, router, rootRouter };
}

