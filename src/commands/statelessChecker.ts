import { createWorkerCalls, ownsItsMemory, startWorkerBeside } from '../journal/workerThread.js';
import type { CheckedBatch } from './ingestStatelessEvents.js';
import type { CheckAnswer, CheckRequest } from './statelessCheckerWorker.js';
import { errorOfWorker } from './workerFailures.js';

/** A copy in memory of its own (a view into a larger buffer would move, or copy, all of it). */
function ownCopy(body: Buffer): Buffer {
  const copy = Buffer.allocUnsafeSlow(body.length);
  body.copy(copy);
  return copy;
}

/** Bodies from this size on (below the writer's offload size) are checked in the checker thread. */
export const CHECK_OFFLOAD_MIN_BYTES = 8 * 1024;

/**
 * Mid-sized stateless bodies are checked in a worker thread: the body is moved there and back
 * (never copied when it owns its memory), and the checked batch is then written by the main
 * thread's group commit like any other. The worker starts with the first such body, which (like
 * any until the thread is up) is checked on the main thread.
 */
export function createStatelessChecker(minBytes = CHECK_OFFLOAD_MIN_BYTES) {
  const calls = createWorkerCalls(() => startWorkerBeside(import.meta.url, 'statelessCheckerWorker', { statelessChecker: true }), errorOfWorker);
  return {
    minBytes,
    /** Whether the thread is up; the first call starts it (the caller checks on its own thread meanwhile). */
    ready: (): boolean => calls.ready(),
    /** The checks of `body`, and the body itself (the one passed in is moved away and must not be used again). */
    async check(body: Buffer, idempotencyKey?: string): Promise<{ checked: CheckedBatch; body: Buffer }> {
      const owned = ownsItsMemory(body) ? body : ownCopy(body);
      const answer = await calls.call<CheckAnswer>((id) => ({ id, body: owned, idempotencyKey }) satisfies CheckRequest, [owned.buffer as ArrayBuffer]);
      return { checked: answer.checked, body: Buffer.from(answer.body.buffer, answer.body.byteOffset, answer.body.byteLength) };
    },
    close: (): Promise<void> => calls.close({ op: 'close' }),
  };
}
export type StatelessChecker = ReturnType<typeof createStatelessChecker>;
