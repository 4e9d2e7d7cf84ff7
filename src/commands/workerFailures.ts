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

/** The other way: a failure payload back as the error the routes answer (400, 422, or a plain error). */
export const errorOfWorker = (payload: unknown): Error => {
  const f = payload as WorkerFailure;
  return f.kind === 'invalid' ? new InvalidBatchError(f.line, f.reason) : f.kind === 'reused' ? new IdempotencyKeyReusedError(f.key, f.seq) : new Error(f.message);
};
