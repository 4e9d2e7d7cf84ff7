import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import { requestContext } from '../../../logger.js';
import type { Principal } from '../auth.js';

/** What the request log needs from the metrics (src/metrics.ts). */
export interface RequestObserver {
  observeRequest(method: string, route: string, status: number, seconds: number): void;
}

/** An incoming X-Request-Id is kept when it is short printable ASCII; otherwise a new one is made. */
const VALID_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** W3C trace context, version 00 (an all-zero trace or parent id is invalid). */
const TRACEPARENT = /^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;

/** The router's matched pattern (`/api/v1/agents/:uuid`), never the raw path: bounded label values. */
export function routeOf(ctx: Context): string {
  const matched = (ctx as Context & { _matchedRoute?: string | RegExp })._matchedRoute;
  return matched === undefined ? 'unmatched' : String(matched);
}

/**
 * Outermost middleware: gives every request an id (`X-Request-Id` in and out), then writes one
 * JSON log line per request (method, route, status, ms, agent or user) and feeds the HTTP metrics.
 * It logs no header, query string or body: keys, passwords and tokens never reach the log.
 * Every line logged while the request is handled carries `reqId` (and a valid `traceparent`,
 * which is also echoed on the response) through the logger's mixin.
 */
export interface RequestLogOptions {
  logger: Logger;
  metrics?: RequestObserver;
  presence?: { seen(agent: string): void };
}

/** The request id: an incoming valid `X-Request-Id`, else a new one. */
export const requestIdOf = (incoming: string | undefined): string => (incoming && VALID_ID.test(incoming) ? incoming : randomUUID());

/** One finished request: the log line (its `reqId` comes from the request context), the HTTP metrics, and the agent's presence. */
export function logRequest(
  opts: RequestLogOptions,
  r: { method: string; route: string; path: string; status: number; ms: number; principal: Principal | undefined },
): void {
  const p = r.principal;
  if (p?.role === 'agent' && r.status < 400) opts.presence?.seen(p.sub);
  const who = p ? (p.role === 'agent' ? { agent: p.sub } : { user: p.sub, role: p.role }) : {};
  const line = { method: r.method, route: r.route, path: r.path, status: r.status, ms: Math.round(r.ms * 10) / 10, ...who };
  if (r.status >= 500) opts.logger.error(line, 'request');
  else opts.logger.info(line, 'request');
  opts.metrics?.observeRequest(r.method, r.route, r.status, r.ms / 1000);
}

export const requestLog = (opts: RequestLogOptions) =>
  async function requestLog(ctx: Context, next: Next): Promise<void> {
    const id = requestIdOf(ctx.get('X-Request-Id'));
    ctx.state.requestId = id;
    ctx.set('X-Request-Id', id);
    const traceparent = ctx.get('traceparent');
    const traced = TRACEPARENT.test(traceparent);
    if (traced) ctx.set('traceparent', traceparent);
    await requestContext.run(traced ? { reqId: id, traceparent } : { reqId: id }, async () => {
      const started = performance.now();
      try {
        await next();
      } finally {
        const principal = ctx.state.principal as Principal | undefined;
        logRequest(opts, { method: ctx.method, route: routeOf(ctx), path: ctx.path, status: ctx.status, ms: performance.now() - started, principal });
      }
    });
  };
