import { readFileSync } from 'node:fs';
import Router from '@koa/router';
import type { Context, Middleware, Next } from 'koa';
import { z } from 'zod';
import type { Role } from '../../../security/tokens.js';
import { ADMIN_SOCKET } from '../auth.js';
import type { HttpDeps } from '../deps.js';
import { openApiDocument } from '../openapi.js';
import { describe } from '../routeDocs.js';

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
  auth: ['operator'],
  authOptional: true,
  summary: 'Prometheus metrics (text format)',
  description: 'Open to any caller on a loopback address or the admin socket; others need an operator token.',
  responses: { 200: { description: 'Prometheus text exposition format', contentType: 'text/plain', binary: true } },
});

/** The package version (src/ and dist/ sit at the same depth below the package root). */
function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** 127.0.0.0/8, ::1 and IPv4-mapped loopback. */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.startsWith('::ffff:') ? address.slice(7) : address;
  return a === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(a);
}

/** Loopback callers and the admin socket pass; anyone else goes through `guard`. */
export const localOr = (guard: Middleware[]) =>
  async function localOr(ctx: Context, next: Next): Promise<void> {
    const viaAdmin = (ctx.req as unknown as Record<symbol, boolean>)[ADMIN_SOCKET];
    if (viaAdmin || isLoopback(ctx.req.socket.remoteAddress)) return next();
    const chain = [...guard];
    const run = async (i: number): Promise<void> => (i < chain.length ? chain[i]!(ctx, () => run(i + 1)) : next());
    return run(0);
  };

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
  router.get('/metrics', localOr(guard('operator', 'metrics')), async (ctx) => {
    ctx.body = await deps.metrics.text();
    ctx.type = deps.metrics.contentType;
  });
  return router;
}
