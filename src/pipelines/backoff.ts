/** Capped exponential back-off with "equal jitter": half fixed, half random. */
export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  /** Random source in [0, 1); injectable for tests. */
  random?: () => number;
}

export function backoffDelay(attempt: number, opts: BackoffOptions): number {
  const exp = Math.min(opts.maxMs, opts.baseMs * 2 ** Math.min(attempt - 1, 30));
  const r = (opts.random ?? Math.random)();
  return Math.round(exp / 2 + (exp / 2) * r);
}
