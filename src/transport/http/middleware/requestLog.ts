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
export const requestLog = (opts: { logger: Logger; metrics?: RequestObserver; presence?: { seen(agent: string): void } }) =>
  async function requestLog(ctx: Context, next: Next): Promise<void> {
    const incoming = ctx.get('X-Request-Id');
    const id = VALID_ID.test(incoming) ? incoming : randomUUID();
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
        const ms = performance.now() - started;
        const route = routeOf(ctx);
        const status = ctx.status;
        const p = ctx.state.principal as Principal | undefined;
        if (p?.role === 'agent' && status < 400) opts.presence?.seen(p.sub);
        const who = p ? (p.role === 'agent' ? { agent: p.sub } : { user: p.sub, role: p.role }) : {};
        const line = { method: ctx.method, route, path: ctx.path, status, ms: Math.round(ms * 10) / 10, ...who };
        if (status >= 500) opts.logger.error(line, 'request');
        else opts.logger.info(line, 'request');
        opts.metrics?.observeRequest(ctx.method, route, status, ms / 1000);
      }
    });
  };
