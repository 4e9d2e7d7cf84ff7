/**
 * Requests waiting for a sink to acknowledge a journal seq. The pipeline calls `acknowledged`
 * with its new checkpoint; each waiter is resolved by that event (true) or by its own deadline
 * (false). No polling.
 */
export function createAckWaiters(current: () => number) {
  let waiting: Array<{ seq: number; resolve: (ok: boolean) => void; timer: NodeJS.Timeout }> = [];
  return {
    wait(seq: number, timeoutMs: number): Promise<boolean> {
      if (current() >= seq) return Promise.resolve(true);
      if (timeoutMs <= 0) return Promise.resolve(false);
      return new Promise((resolve) => {
        const w = {
          seq,
          resolve,
          timer: setTimeout(() => {
            waiting = waiting.filter((x) => x !== w);
            resolve(false);
          }, timeoutMs),
        };
        waiting.push(w);
      });
    },
    acknowledged(checkpoint: number): void {
      if (waiting.length === 0) return;
      const [done, rest] = [waiting.filter((w) => w.seq <= checkpoint), waiting.filter((w) => w.seq > checkpoint)];
      waiting = rest;
      for (const w of done) {
        clearTimeout(w.timer);
        w.resolve(true);
      }
    },
    /** Shutdown: everyone still waiting is answered "not yet". */
    close(): void {
      for (const w of waiting) {
        clearTimeout(w.timer);
        w.resolve(false);
      }
      waiting = [];
    },
    size: (): number => waiting.length,
  };
}
export type AckWaiters = ReturnType<typeof createAckWaiters>;
