import Router from '@koa/router';
import { z } from 'zod';
import type { HttpDeps } from '../deps.js';
import { describe } from '../routeDocs.js';

export const ReadyReportSchema = z.looseObject({
  ready: z.boolean(),
  /** Why writes are refused (503): `shutting down`, `journal full (…)`, `lock lost: …`. */
  reason: z.string().optional(),
  pipelines: z.record(z.string(), z.looseObject({ state: z.string(), lag: z.number() })),
});

describe({
  method: 'get',
  path: '/health',
  tags: ['operations'],
  auth: 'anyone',
  summary: 'Liveness: the process answers',
  responses: { 200: { description: 'alive', schema: z.object({ status: z.literal('ok') }) } },
});
describe({
  method: 'get',
  path: '/ready',
  tags: ['operations'],
  auth: 'anyone',
  summary: "Readiness, with each pipeline's state and lag (journal head - checkpoint)",
  responses: {
    200: { description: 'ready', schema: ReadyReportSchema },
    503: { description: 'writes are refused (`reason`: journal full, shutting down, lock lost; `Retry-After`); same body', schema: ReadyReportSchema, contentType: 'application/json' },
  },
});

/** The ports these routes use, bound once by the composition root (main.ts passes its HttpDeps). */
export type HealthRouteDeps = Pick<HttpDeps, 'readiness'>;

export function healthRoutes(deps: HealthRouteDeps): Router {
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
