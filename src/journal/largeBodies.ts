import type { ToBodiesWorker } from './largeBodiesWorker.js';
import { createWorkerCalls, startWorkerBeside } from './workerThread.js';

/** Bodies from this size on are read by the worker thread (SQLite copies ~100–200 MB/s here, on a loaded machine). */
export const LARGE_BODY_BYTES = 256 * 1024;

/**
 * Reads large journal bodies (a 10 MB stateless batch) off the event loop: in a worker thread with
 * its own read-only connection, started on first use. A body read is of a committed row, so it is
 * the same whichever connection reads it.
 */
export function createLargeBodyReader(file: string) {
  const calls = createWorkerCalls(() => startWorkerBeside(import.meta.url, 'largeBodiesWorker', { largeBodies: file }));
  return {
    minBytes: LARGE_BODY_BYTES,
    /** The body of the row `seq` (null when it has none or is gone). */
    async read(seq: number): Promise<Buffer | null> {
      const body = await calls.call<Uint8Array | null>((id) => ({ id, seq }) satisfies ToBodiesWorker);
      return body ? Buffer.from(body.buffer, body.byteOffset, body.byteLength) : null;
    },
    close: (): Promise<void> => calls.close({ close: true } satisfies ToBodiesWorker),
  };
}
export type LargeBodyReader = ReturnType<typeof createLargeBodyReader>;
