import Router from '@koa/router';
import type { Context, Middleware, Next } from 'koa';
import { z } from 'zod';
import type { Role } from '../../../security/tokens.js';
import type { HttpDeps } from '../deps.js';
import { openApiDocument } from '../openapi.js';
import { describe } from '../routeDocs.js';
import { BASE_PATH } from '../basePath.js';
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
    'Open to direct loopback callers (API.md); a request that carries a forwarding header (`Forwarded`, `X-Forwarded-*`, ' +
    '`X-Real-IP`, `Via`) came through a proxy and needs a credential with the role `metrics` (or `operator`), like every ' +
    'remote caller. The admin socket and the metrics-only listener (`COMMS_API_METRICS_PORT`, loopback by default) need none.',
  responses: { 200: { description: 'Prometheus text exposition format', contentType: 'text/plain', binary: true } },
});

/** Routes under /api/v1: the OpenAPI document. */
export function opsRoutes(): Router {
  const router = new Router();
  const version = packageVersion();
  let document: Record<string, unknown> | undefined;
  router.get('/openapi.json', (ctx) => {
    document ??= openApiDocument({ basePath: BASE_PATH, version });
    ctx.body = document;
  });
  return router;
}

/** Headers a reverse proxy adds: a request carrying one is not treated as a loopback caller. */
const FORWARDING_HEADERS = ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-real-ip', 'via'];

/**
 * API.md: /metrics is open to loopback callers. A loopback connection that carries a forwarding
 * header came through a proxy on this host, so it needs the credential like any remote caller.
 */
export const directLoopbackOr = (guard: Middleware[]) =>
  async function directLoopbackOr(ctx: Context, next: Next): Promise<void> {
    const forwarded = FORWARDING_HEADERS.some((h) => ctx.get(h) !== '');
    if (!forwarded && isLoopback(ctx.req.socket.remoteAddress)) return next();
    const run = async (i: number): Promise<void> => (i < guard.length ? guard[i]!(ctx, () => run(i + 1)) : next());
    return run(0);
  };

function isLoopback(address: string | undefined): boolean {
  return address !== undefined && (address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.'));
}

/** The ports these routes use, bound once by the composition root (main.ts passes its HttpDeps). */
export type OpsRouteDeps = {
  metrics: Pick<HttpDeps['metrics'], 'contentType' | 'text'>;
};

/** Routes outside /api/v1: GET /metrics. */
export function metricsRoutes(deps: OpsRouteDeps, guard: (...roles: Role[]) => Middleware[]): Router {
  const router = new Router();
  router.get('/metrics', directLoopbackOr(guard('metrics', 'operator')), async (ctx) => {
    ctx.body = await deps.metrics.text();
    ctx.type = deps.metrics.contentType;
  });
  return router;
}
