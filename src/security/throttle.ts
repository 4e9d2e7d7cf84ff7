/**
 * Failed-login throttle: after `freeFailures` failures of one key (source address, or uuid/user)
 * within `windowMs`, further attempts are refused for a delay that doubles with each failure,
 * capped at `maxDelayMs`. A success clears the principal's key.
 */
export interface ThrottleOptions {
  freeFailures?: number;
  windowMs?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  maxKeys?: number;
  now?: () => number;
}

interface Record {
  failures: number;
  first: number;
  blockedUntil: number;
}

export function createThrottle(opts: ThrottleOptions = {}) {
  const free = opts.freeFailures ?? 5;
  const windowMs = opts.windowMs ?? 5 * 60_000;
  const base = opts.baseDelayMs ?? 1000;
  const cap = opts.maxDelayMs ?? 15 * 60_000;
  const maxKeys = opts.maxKeys ?? 100_000;
  const now = opts.now ?? Date.now;
  const records = new Map<string, Record>();

  return {
    /** Seconds to wait before trying again, or 0 when an attempt is allowed. */
    retryAfter(keys: string[]): number {
      const t = now();
      let wait = 0;
      for (const k of keys) {
        const r = records.get(k);
        if (r && r.blockedUntil > t) wait = Math.max(wait, Math.ceil((r.blockedUntil - t) / 1000));
      }
      return wait;
    },
    fail(keys: string[]): void {
      const t = now();
      for (const k of keys) {
        let r = records.get(k);
        if (!r || t - r.first > windowMs) {
          r = { failures: 0, first: t, blockedUntil: 0 };
          if (records.size >= maxKeys) records.delete(records.keys().next().value as string);
          records.set(k, r);
        }
        r.failures += 1;
        if (r.failures >= free) r.blockedUntil = t + Math.min(cap, base * 2 ** (r.failures - free));
      }
    },
    succeed(key: string): void {
      records.delete(key);
    },
  };
}
export type Throttle = ReturnType<typeof createThrottle>;
