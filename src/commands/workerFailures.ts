import { IdempotencyKeyReusedError, InvalidBatchError } from './ingestStatelessEvents.js';

/** What a worker thread answers for a batch it refused: the error the routes answer, as plain data. */
export type WorkerFailure =
  | { kind: 'invalid'; line: number; reason: string }
  | { kind: 'reused'; key: string; seq: number }
  | { kind: 'other'; message: string };

export const failureOf = (err: unknown): WorkerFailure =>
  err instanceof InvalidBatchError
    ? { kind: 'invalid', line: err.line, reason: err.reason }
    : err instanceof IdempotencyKeyReusedError
      ? { kind: 'reused', key: err.key, seq: err.seq }
      : { kind: 'other', message: err instanceof Error ? err.message : String(err) };
