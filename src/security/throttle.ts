/**
 * Failed-login throttle, counted per key with attempts in flight reserved before the slow hash:
 * - `pair`: one address and one principal (the guessing of one client): `pairFailures` (5) free;
 * - `principal`: one uuid or user name from anywhere (guessing spread over many addresses): `principalFailures` (20);
 * - `address`: one source address for every principal (a separate, higher ceiling: a NAT or a
 *   load balancer carries a whole fleet): `addressFailures` (100).
 * Past its free failures within `windowMs`, a key refuses attempts for a delay that doubles with
 * each further failure (from `baseDelayMs`, capped at `maxDelayMs`), and lets one attempt at a
 * time through after it. Attempts in flight count: N simultaneous guesses cannot all be evaluated.
 * A success clears its pair and principal keys, never the address key.
 */
export interface ThrottleOptions {
  pairFailures?: number;
  principalFailures?: number;
  addressFailures?: number;
  windowMs?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  maxKeys?: number;
  now?: () => number;
}

interface Counter {
  failures: number;
  inFlight: number;
  first: number;
  blockedUntil: number;
}

/** A reserved attempt: settle it exactly once. */
export interface LoginAttempt {
  succeeded(): void;
  failed(): void;
  /** Neither (the check could not be made: 503): the reservation is returned. */
  abandoned(): void;
}

export type ThrottleDecision = { ok: true; attempt: LoginAttempt } | { ok: false; retryAfter: number };

export function createThrottle(opts: ThrottleOptions = {}) {
  const windowMs = opts.windowMs ?? 5 * 60_000;
  const base = opts.baseDelayMs ?? 1000;
  const cap = opts.maxDelayMs ?? 15 * 60_000;
  const maxKeys = opts.maxKeys ?? 100_000;
  const now = opts.now ?? Date.now;
  const counters = new Map<string, Counter>();

  const limits = (address: string, principal: string): Array<[string, number]> => [
    [`pair:${address}|${principal}`, opts.pairFailures ?? 5],
    [`principal:${principal}`, opts.principalFailures ?? 20],
    [`address:${address}`, opts.addressFailures ?? 100],
  ];

  function counter(key: string, t: number): Counter {
    let c = counters.get(key);
    if (c && c.inFlight === 0 && t - c.first > windowMs && c.blockedUntil <= t) {
      counters.delete(key);
      c = undefined;
    }
    if (!c) {
      if (counters.size >= maxKeys) counters.delete(counters.keys().next().value as string);
      c = { failures: 0, inFlight: 0, first: t, blockedUntil: 0 };
      counters.set(key, c);
    }
    return c;
  }

  /** Seconds to wait before this key lets an attempt through, or 0. */
  function wait(c: Counter | undefined, free: number, t: number): number {
    if (!c) return 0;
    if (c.blockedUntil > t) return Math.ceil((c.blockedUntil - t) / 1000);
    return c.inFlight >= Math.max(1, free - c.failures) ? 1 : 0;
  }

  function settle(keys: Array<[string, number]>, outcome: 'success' | 'failure' | 'abandoned'): void {
    const t = now();
    for (const [key, free] of keys) {
      const c = counters.get(key);
      if (!c) continue;
      c.inFlight = Math.max(0, c.inFlight - 1);
      if (outcome === 'failure') {
        if (t - c.first > windowMs && c.blockedUntil <= t) {
          c.failures = 0;
          c.first = t;
        }
        c.failures += 1;
        if (c.failures >= free) c.blockedUntil = t + Math.min(cap, base * 2 ** (c.failures - free));
      } else if (outcome === 'success' && !key.startsWith('address:') && c.inFlight === 0) {
        counters.delete(key);
      }
    }
  }

  return {
    /** Reserves an attempt of `principal` from `address`, or says how long to wait (429). */
    begin(address: string, principal: string): ThrottleDecision {
      const t = now();
      const keys = limits(address, principal);
      let retryAfter = 0;
      for (const [key, free] of keys) retryAfter = Math.max(retryAfter, wait(counters.get(key), free, t));
      if (retryAfter > 0) return { ok: false, retryAfter };
      for (const [key] of keys) counter(key, t).inFlight += 1;
      let settled = false;
      const once = (outcome: 'success' | 'failure' | 'abandoned') => () => {
        if (settled) return;
        settled = true;
        settle(keys, outcome);
      };
      return { ok: true, attempt: { succeeded: once('success'), failed: once('failure'), abandoned: once('abandoned') } };
    },
  };
}
export type Throttle = ReturnType<typeof createThrottle>;
