import { AsyncLocalStorage } from 'node:async_hooks';
import pino, { type Logger } from 'pino';

/** What every log line written while a request is handled carries: its id, and its W3C trace context when sent. */
export interface RequestLogContext {
  reqId: string;
  traceparent?: string;
}

/** Set by the request-log middleware around each request; read by every logger's mixin. */
export const requestContext = new AsyncLocalStorage<RequestLogContext>();

/**
 * Structured JSON logs on stdout, one object a line: `level` as a name (`info`, `error`, …), `time`
 * in ISO 8601 (UTC), and on every line written while a request is handled its `reqId` (and
 * `traceparent` when the caller sent one). Keys, passwords and tokens are never logged (redacted if
 * they slip in).
 */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'comms-api' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    mixin: () => requestContext.getStore() ?? {},
    redact: {
      paths: ['key', 'password', 'token', '*.key', '*.password', '*.token', 'req.headers.authorization', 'headers.authorization'],
      censor: '[redacted]',
    },
  });
}

/** The start-up record ("serving on URL"), written at any level but `silent`: scripts wait for it. */
export function announce(logger: Logger, fields: Record<string, unknown>, msg: string): void {
  (logger.level === 'silent' ? logger : logger.child({}, { level: 'info' })).info(fields, msg);
}
