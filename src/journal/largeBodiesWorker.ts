/**
 * The worker thread of src/journal/largeBodies.ts: reads journal bodies on a read-only connection
 * of its own and hands each one back without a copy. Reading a 10 MB row holds this thread for
 * ~10–90 ms, not the server's event loop.
 */
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { ownsItsMemory, yieldCpuToRequests, type WorkerAnswer } from './workerThread.js';

export type ToBodiesWorker = { id: number; seq: number } | { close: true };

function serve(file: string): void {
  yieldCpuToRequests();
  const port = parentPort!;
  const db = new Database(file, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 10000');
  const read = db.prepare<[number], { body: Buffer | null }>('SELECT body FROM journal WHERE seq = ?');
  port.on('message', (m: ToBodiesWorker) => {
    if ('close' in m) {
      db.close();
      port.close();
      return;
    }
    try {
      const body = read.get(m.seq)?.body ?? null;
      port.postMessage({ id: m.id, ok: true, value: body } satisfies WorkerAnswer, body && ownsItsMemory(body) ? [body.buffer as ArrayBuffer] : []);
    } catch (err) {
      port.postMessage({ id: m.id, ok: false, error: (err as Error).message } satisfies WorkerAnswer);
    }
  });
}

const file = (workerData as { largeBodies?: string } | null)?.largeBodies;
if (parentPort && file) serve(file);
