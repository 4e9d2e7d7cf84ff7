import createHttpError from 'http-errors';
import type { Context, Next } from 'koa';
import statuses from 'statuses';
import { ZodError } from 'zod';
import { StatusError } from '../../errors.js';

/** An HTTP error a route or middleware throws, with a problem+json body. `extra` members are added to the body. */
export class HttpError extends StatusError {
  override readonly problem: Record<string, unknown>;
  override readonly headers: Record<string, string>;
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail?: string,
    extra: Record<string, unknown> = {},
    headers: Record<string, string> = {},
  ) {
    super(detail ?? title);
    this.problem = extra;
    this.headers = headers;
  }
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  [member: string]: unknown;
}

/** The reason phrase of a status (the `statuses` package); 413 by its RFC 9110 name (it still says "Payload Too Large"). */
export const statusTitle = (status: number): string =>
  status === 413 ? 'Content Too Large' : (statuses.message[status] ?? (status < 500 ? 'Client Error' : 'Error'));

interface Answer {
  status: number;
  title: string;
  detail?: string | undefined;
  extra: Record<string, unknown>;
  headers: Record<string, string>;
}

/**
 * The one lookup: an error that carries its status (ours extend StatusError; Koa's, koa-jwt's and the
 * router's come from http-errors with `status` and `expose`) answers with it, a ZodError is a 400 with
 * the fields, anything else is a bug: 500 without internals.
 */
export function toProblem(err: unknown): Answer {
  if (err instanceof ZodError) {
    const errors = err.issues.map((i) => ({ field: i.path.join('.') || '(body)', message: i.message }));
    const first = errors[0]!;
    return { status: 400, title: statusTitle(400), detail: `${first.field}: ${first.message}`, extra: { errors }, headers: {} };
  }
  if (err instanceof StatusError && (err.status < 500 || err.expose)) {
    const title = err instanceof HttpError ? err.title : statusTitle(err.status);
    const detail = err instanceof HttpError ? err.detail : err.message;
    return { status: err.status, title, detail, extra: err.problem, headers: err.headers };
  }
  // http-errors' errors (ours above, Koa's, koa-jwt's, the router's) and anything else that names a 4xx status
  const status = createHttpError.isHttpError(err) ? err.status : ((err as { status?: number }).status ?? (err as { statusCode?: number }).statusCode);
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const message = (err as Error).message;
    return { status, title: statusTitle(status), detail: status === 401 ? authDetail(message) : message, extra: {}, headers: {} };
  }
  return { status: 500, title: statusTitle(500), detail: 'the server failed; the request id identifies it in the logs', extra: {}, headers: {} };
}

function authDetail(message: string): string {
  if (/expired/i.test(message)) return 'the token has expired';
  if (/revoked/i.test(message)) return 'the token was revoked';
  if (/No authentication token/i.test(message)) return 'missing Authorization: Bearer token';
  return 'the token is invalid';
}

export function problemBody(e: Answer): Problem {
  return {
    type: `https://comms-api.dev/problems/${e.status}`,
    title: e.title,
    status: e.status,
    ...(e.detail ? { detail: e.detail } : {}),
    ...e.extra,
  };
}

/** First middleware: every error leaves as application/problem+json. */
export const problemJson = (opts: { onServerError?: (err: unknown, ctx: Context) => void } = {}) =>
  async function problemJson(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw createHttpError(404, `no route for ${ctx.method} ${ctx.path}`);
      // 501 is what the router says of methods it does not know (TRACE...): still the client's error, 405
      if ((ctx.status === 405 || ctx.status === 501) && ctx.body === undefined) {
        throw createHttpError(405, `${ctx.method} is not allowed on ${ctx.path}`);
      }
    } catch (err) {
      const e = toProblem(err);
      // a 503 is an expected refusal (journal full, shutting down, indexer away): logged once per episode, not per request
      if (e.status >= 500 && e.status !== 503) opts.onServerError?.(err, ctx);
      ctx.status = e.status;
      for (const [k, v] of Object.entries(e.headers)) ctx.set(k, v);
      if (e.status === 401) ctx.set('WWW-Authenticate', 'Bearer');
      ctx.type = 'application/problem+json';
      ctx.body = problemBody(e);
    }
  };
