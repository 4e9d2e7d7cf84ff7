import { StatusError } from '../errors.js';

/** Typed failures of the journal, each with the status HTTP answers it with. */
export class JournalFullError extends StatusError {
  readonly status = 503;
  readonly retryAfter = 60;
  override readonly headers = { 'Retry-After': String(this.retryAfter) };
  constructor(readonly sizeBytes: number, readonly quotaBytes: number) {
    super(`journal is full (${sizeBytes} of ${quotaBytes} bytes)`);
  }
}
export class JournalClosedError extends StatusError {
  readonly status = 503;
  readonly retryAfter = 5;
  override readonly headers = { 'Retry-After': String(this.retryAfter) };
  constructor() {
    super('journal is closing');
  }
}
export class ConflictError extends StatusError {
  readonly status: number = 409;
}
export class DuplicateError extends StatusError {
  readonly status = 409;
}

/** Maps SQLITE_CONSTRAINT_* to domain errors, in one place. */
export function mapSqliteError(err: unknown): unknown {
  const code = (err as { code?: string }).code ?? '';
  if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE') {
    return new DuplicateError((err as Error).message);
  }
  if (code.startsWith('SQLITE_CONSTRAINT')) return new ConflictError((err as Error).message);
  return err;
}
