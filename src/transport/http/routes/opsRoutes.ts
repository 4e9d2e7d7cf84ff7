import Router from '@koa/router';
import type { Middleware } from 'koa';
import { z } from 'zod';
import type { Role } from '../../../security/tokens.js';
import type { HttpDeps } from '../deps.js';
import { openApiDocument } from '../openapi.js';
import { describe } from '../routeDocs.js';
import { packageVersion } from '../../../version.js';

describe({
  method: 'get',
  path: '/openapi.json',
  tags: ['operations'],
  auth: 'anyone',
  summary: 'This OpenAPI 3.1 document',
  responses: { 200: { description: 'the document', schema: z.record(z.string(), z.unknown()) } },
});
describe({
  method: 'get',
  path: '/metrics',
  basePath: false,
  tags: ['operations'],
  auth: ['metrics', 'operator'],
  summary: 'Prometheus metrics (text format)',
  description:
    'Needs a credential with the role `metrics` (or `operator`), from loopback too: behind a reverse proxy on the same host ' +
    'every caller would be a loopback caller. The admin socket and the metrics-only listener (`COMMS_API_METRICS_PORT`, ' +
    'loopback by default) need none.',
  responses: { 200: { description: 'Prometheus text exposition format', contentType: 'text/plain', binary: true } },
});

/** Routes under /api/v1: the OpenAPI document. */
export function opsRoutes(): Router {
  const router = new Router();
  const version = packageVersion();
  let document: Record<string, unknown> | undefined;
  router.get('/openapi.json', (ctx) => {
    document ??= openApiDocument({ basePath: '/api/v1', version });
    ctx.body = document;
  });
  return router;
}

/** Routes outside /api/v1: GET /metrics. */
export function metricsRoutes(deps: HttpDeps, guard: (...roles: Role[]) => Middleware[]): Router {
  const router = new Router();
  router.get('/metrics', ...guard('metrics', 'operator'), async (ctx) => {
    ctx.body = await deps.metrics.text();
    ctx.type = deps.metrics.contentType;
  });
  return router;
}
