import Router from '@koa/router';
import type { HttpDeps } from '../deps.js';

export function healthRoutes(deps: HttpDeps): Router {
  const router = new Router();
  router.get('/health', (ctx) => {
    ctx.body = { status: 'ok' };
  });
  router.get('/ready', (ctx) => {
    const report = deps.readiness();
    ctx.status = report.ready ? 200 : 503;
    if (!report.ready) ctx.set('Retry-After', '5');
    ctx.body = report;
  });
  return router;
}
