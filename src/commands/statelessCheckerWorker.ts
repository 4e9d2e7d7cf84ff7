/**
 * The worker thread that checks mid-sized stateless bodies (src/commands/statelessChecker.ts
 * starts it): JSON of every line, nesting, the digest — the same checks as on the main thread —
 * and moves the body back with the result, so the main thread only writes it (in its group
 * commit, beside the small batches). Parsing 100 KB of NDJSON costs ~1 ms of CPU; here it runs
 * while the main thread serves requests and waits for its commits' fsync. It keeps the process's
 * CPU priority: each of its bodies is a request waiting for its answer.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { WorkerAnswer } from '../journal/workerThread.js';
import { checkStatelessBody, type CheckedBatch } from './ingestStatelessEvents.js';
import { failureOf } from './workerFailures.js';

export interface CheckRequest {
  id: number;
  body: Uint8Array;
  idempotencyKey?: string | undefined;
}
export interface CheckAnswer {
  checked: CheckedBatch;
  body: Uint8Array;
}

function serve(): void {
  // not niced like the other workers: the requests whose bodies it checks wait for it
  const port = parentPort!;
  port.on('message', (m: CheckRequest | { op: 'close' }) => {
    if ('op' in m) return port.close();
    try {
      const checked = checkStatelessBody(Buffer.from(m.body.buffer, m.body.byteOffset, m.body.byteLength), m.idempotencyKey);
      port.postMessage({ id: m.id, ok: true, value: { checked, body: m.body } satisfies CheckAnswer } satisfies WorkerAnswer, [m.body.buffer as ArrayBuffer]);
    } catch (err) {
      port.postMessage({ id: m.id, ok: false, error: failureOf(err) } satisfies WorkerAnswer);
    }
  });
}

if (parentPort && (workerData as { statelessChecker?: boolean } | null)?.statelessChecker) serve();
