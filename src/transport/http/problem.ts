import type { Context, Next } from 'koa';
import { ZodError } from 'zod';
import { InvalidBatchError } from '../../commands/ingestStatelessEvents.js';
import { UnknownAgentError } from '../../commands/deleteAgent.js';
import { PreconditionFailedError } from '../../commands/putGroupConfiguration.js';
import { PackageTooLargeError, UnknownPackageError } from '../../commands/storePackage.js';
import { InvalidTargetError, UnknownActionError } from '../../commands/issueCommand.js';
import { NotATargetError, UnknownCommandError } from '../../commands/recordCommandResult.js';
import { InvalidArgsError } from '../../catalog/argsSchema.js';
import { IndexerUnavailableError } from '../../commands/recordIndexedCommandResult.js';
import { UnknownUserError } from '../../commands/userLifecycle.js';
import { UnknownApiKeyError } from '../../commands/apiKeys.js';
import { ConflictError, DuplicateError, JournalClosedError, JournalFullError } from '../../journal/errors.js';

/** An HTTP error with a problem+json body. `extra` members are added to the body. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail?: string,
    readonly extra: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(detail ?? title);
  }
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  [member: string]: unknown;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  411: 'Length Required',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  416: 'Range Not Satisfiable',
  428: 'Precondition Required',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** The one error → status table. Anything not in it is a bug: 500 without internals. */
export function toHttpError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  if (err instanceof ZodError) {
    const errors = err.issues.map((i) => ({ field: i.path.join('.') || '(body)', message: i.message }));
    const first = errors[0]!;
    return new HttpError(400, 'Bad Request', `${first.field}: ${first.message}`, { errors });
  }
  if (err instanceof InvalidBatchError) {
    return new HttpError(400, 'Bad Request', err.message, { errors: [{ line: err.line, message: err.reason }] });
  }
  if (err instanceof JournalFullError || err instanceof JournalClosedError) {
    return new HttpError(503, 'Service Unavailable', err.message, {}, { 'Retry-After': String(err.retryAfter) });
  }
  if (err instanceof IndexerUnavailableError) return new HttpError(503, 'Service Unavailable', err.message, {}, { 'Retry-After': '5' });
  if (err instanceof UnknownUserError || err instanceof UnknownPackageError || err instanceof UnknownApiKeyError) return new HttpError(404, 'Not Found', err.message);
  if (err instanceof UnknownAgentError) return new HttpError(404, 'Not Found', err.message);
  if (err instanceof PreconditionFailedError) return new HttpError(412, 'Precondition Failed', err.message, {}, { ETag: err.currentEtag });
  if (err instanceof PackageTooLargeError) return new HttpError(413, 'Content Too Large', err.message, {}, { Connection: 'close' });
  if (err instanceof InvalidArgsError) return new HttpError(400, 'Bad Request', err.message, { errors: err.errors });
  if (err instanceof InvalidTargetError) return new HttpError(400, 'Bad Request', err.message);
  if (err instanceof UnknownActionError || err instanceof UnknownCommandError) return new HttpError(404, 'Not Found', err.message);
  if (err instanceof NotATargetError) return new HttpError(403, 'Forbidden', err.message);
  if (err instanceof DuplicateError || err instanceof ConflictError) return new HttpError(409, 'Conflict', err.message);
  const status = (err as { status?: number; statusCode?: number }).status ?? (err as { statusCode?: number }).statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    const message = (err as Error).message;
    return new HttpError(status, TITLES[status] ?? 'Client Error', status === 401 ? authDetail(message) : message);
  }
  return new HttpError(500, 'Internal Server Error', 'the server failed; the request id identifies it in the logs');
}

function authDetail(message: string): string {
  if (/expired/i.test(message)) return 'the token has expired';
  if (/revoked/i.test(message)) return 'the token was revoked';
  if (/No authentication token/i.test(message)) return 'missing Authorization: Bearer token';
  return 'the token is invalid';
}

export function problemBody(e: HttpError): Problem {
  return {
    type: `https://comms-api.dev/problems/${e.status}`,
    title: e.title || TITLES[e.status] || 'Error',
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
      if (ctx.status === 404 && ctx.body === undefined) throw new HttpError(404, 'Not Found', `no route for ${ctx.method} ${ctx.path}`);
      // 501 is what the router says of methods it does not know (TRACE...): still the client's error, 405
      if ((ctx.status === 405 || ctx.status === 501) && ctx.body === undefined) {
        throw new HttpError(405, 'Method Not Allowed', `${ctx.method} is not allowed on ${ctx.path}`);
      }
    } catch (err) {
      const e = toHttpError(err);
      if (e.status >= 500) opts.onServerError?.(err, ctx);
      ctx.status = e.status;
      for (const [k, v] of Object.entries(e.headers)) ctx.set(k, v);
      if (e.status === 401) ctx.set('WWW-Authenticate', 'Bearer');
      ctx.type = 'application/problem+json';
      ctx.body = problemBody(e);
    }
  };
