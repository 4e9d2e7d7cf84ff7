/** How long to keep polling and what the failure names; a number is the milliseconds, a string the `what`. */
export interface EventuallyOptions {
  /** What is awaited, for the error message. */
  what?: string;
  /** Give up after this long (generous: the machine is shared). */
  ms?: number;
  /** Between two probes. */
  everyMs?: number;
}

/** For `check`: the probe found something. */
export const isDefined = <T>(v: T | undefined): v is T => v !== undefined;

/**
 * The one polling helper of the tests: probes (through the public API, or a pure read) until
 * `check` holds, and resolves with that value. Pipelines, hubs and followers work in the background.
 */
export async function eventually<T, S extends T>(probe: () => T | Promise<T>, check: (v: T) => v is S, opts?: number | string | EventuallyOptions): Promise<S>;
export async function eventually<T>(probe: () => T | Promise<T>, check: (v: T) => boolean, opts?: number | string | EventuallyOptions): Promise<T>;
export async function eventually<T>(probe: () => T | Promise<T>, check: (v: T) => boolean, opts: number | string | EventuallyOptions = {}): Promise<T> {
  const o: EventuallyOptions = typeof opts === 'number' ? { ms: opts } : typeof opts === 'string' ? { what: opts } : opts;
  const ms = o.ms ?? 60_000;
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (check(v)) return v;
    if (Date.now() > deadline) {
      throw new Error(`gave up waiting for ${o.what ?? 'the condition'} after ${ms} ms; last value: ${JSON.stringify(v)?.slice(0, 500)}`);
    }
    await new Promise((r) => setTimeout(r, o.everyMs ?? 100));
  }
}
