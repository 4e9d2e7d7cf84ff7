import { StatusError } from '../errors.js';
/**
 * The slow hashes' own queue: at most `concurrency` run at once (each takes one thread of libuv's
 * pool, which file I/O shares, so `concurrency` stays below the pool's size), at most `maxQueued`
 * wait; beyond that a hash is refused at once (HashQueueFullError → 503 + Retry-After) instead of
 * queueing behind thousands of others.
 */
export class HashQueueFullError extends StatusError {
  readonly status = 503;
  readonly retryAfter = 1;
  override readonly headers = { 'Retry-After': '1' };
  constructor(readonly queued: number) {
    super(`${queued} credential checks are waiting; try again shortly`);
  }
}

export interface HashQueueOptions {
  concurrency: number;
  maxQueued: number;
}

/** libuv's pool size (UV_THREADPOOL_SIZE, default 4): hashes may take all but two of its threads. */
export function poolShare(requested: number, poolSize = Number(process.env.UV_THREADPOOL_SIZE) || 4): number {
  return Math.max(1, Math.min(requested, poolSize - 2));
}

export function createHashQueue(opts: HashQueueOptions) {
  let running = 0;
  const waiting: Array<() => void> = [];
  const next = () => {
    running -= 1;
    waiting.shift()?.();
  };
  return {
    async run<T>(work: () => Promise<T>): Promise<T> {
      if (running >= opts.concurrency) {
        if (waiting.length >= opts.maxQueued) throw new HashQueueFullError(waiting.length);
        await new Promise<void>((resolve) => waiting.push(resolve));
      }
      running += 1;
      try {
        return await work();
      } finally {
        next();
      }
    },
    stats: () => ({ running, queued: waiting.length }),
  };
}
export type HashQueue = ReturnType<typeof createHashQueue>;
