/** Typed infrastructure failures of the journal; HTTP maps them in one table. */
export class JournalFullError extends Error {
  readonly retryAfter = 60;
  constructor(readonly sizeBytes: number, readonly quotaBytes: number) {
    super(`journal is full (${sizeBytes} of ${quotaBytes} bytes)`);
  }
}
export class JournalClosedError extends Error {
  readonly retryAfter = 5;
  constructor() {
    super('journal is closing');
  }
}
export class ConflictError extends Error {}
export class DuplicateError extends Error {}

/** Maps SQLITE_CONSTRAINT_* to domain errors, in one place. */
export function mapSqliteError(err: unknown): unknown {
  const code = (err as { code?: string }).code ?? '';
  if (code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || code === 'SQLITE_CONSTRAINT_UNIQUE') {
    return new DuplicateError((err as Error).message);
  }
  if (code.startsWith('SQLITE_CONSTRAINT')) return new ConflictError((err as Error).message);
  return err;
}
