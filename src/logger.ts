import pino, { type Logger } from 'pino';

/** Structured JSON logs. Keys, passwords and tokens are never logged (redacted if they slip in). */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'comms-api' },
    redact: {
      paths: ['key', 'password', 'token', '*.key', '*.password', '*.token', 'req.headers.authorization', 'headers.authorization'],
      censor: '[redacted]',
    },
  });
}
