/**
 * The worker thread of large stateless batches (src/commands/statelessWriter.ts starts it): it
 * checks a body (JSON of every line, nesting, the digest) and, when the main thread's group
 * commit gives it its turn, writes the batch on its own connection to the same database — the
 * appender, every projection (`createProjections`, as the composition roots hand the journal) and
 * the batch's unit of work are the ones the main thread uses.
 * Holding this thread for the parse or the commit of a 10 MB row holds no request.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createAppender } from '../journal/appendToJournal.js';
import { openDatabase } from '../journal/database.js';
import type { StoredEntry } from '../journal/entries.js';
import { createGroupCommit } from '../journal/groupCommit.js';
import type { AgentId } from '../journal/ids.js';
import { yieldCpuToRequests, type WorkerAnswer } from '../journal/workerThread.js';
import { createProjections } from '../projections/index.js';
import { checkStatelessBodyYielding, statelessBatchWriter, type CheckedBatch } from './ingestStatelessEvents.js';
import { failureOf } from './workerFailures.js';

export type ToWorker =
  | { op: 'check'; id: number; body: Uint8Array; idempotencyKey?: string | undefined }
  | { op: 'write'; id: number; checked: number; agent: AgentId }
  | { op: 'forget'; id: number }
  | { op: 'close' };

export { failureOf, type WorkerFailure } from './workerFailures.js';

function serve(file: string): void {
  yieldCpuToRequests();
  const port = parentPort!;
  const db = openDatabase(file);
  let committed: StoredEntry[] = [];
  const commit = createGroupCommit({
    db,
    appender: createAppender(db),
    projections: createProjections(db),
    // the quota and the data folder lock are checked by the main thread before it gives a turn
    quotaBytes: Number.POSITIVE_INFINITY,
    onCommitted: (entries) => (committed = entries),
  });
  const write = statelessBatchWriter(db);
  const checked = new Map<number, { body: Buffer; checked: CheckedBatch; idempotencyKey?: string | undefined }>();

  async function answer(m: Exclude<ToWorker, { op: 'close' | 'forget' }>): Promise<unknown> {
    if (m.op === 'check') {
      const body = Buffer.from(m.body.buffer, m.body.byteOffset, m.body.byteLength);
      // in slices: a turn given meanwhile (another batch's write) is not kept waiting behind a long check
      const batch = await checkStatelessBodyYielding(body, m.idempotencyKey);
      checked.set(m.id, { body, checked: batch, idempotencyKey: m.idempotencyKey });
      return { events: batch.events };
    }
    const c = checked.get(m.checked);
    checked.delete(m.checked);
    if (!c) throw new Error(`no checked batch ${m.checked}`);
    committed = [];
    const ack = await commit.run((tx) => write(tx, m.agent, c.body, c.checked, c.idempotencyKey));
    // the entries go back without the body (the main thread's listeners read rows, not bodies)
    return { value: ack, entries: committed.map(({ body: _body, ...e }) => e) };
  }

  port.on('message', (m: ToWorker) => {
    if (m.op === 'close') {
      void commit.close().then(() => {
        db.close();
        port.close();
      });
      return;
    }
    if (m.op === 'forget') {
      checked.delete(m.id);
      return;
    }
    answer(m).then(
      (value) => port.postMessage({ id: m.id, ok: true, value } satisfies WorkerAnswer),
      (err: unknown) => port.postMessage({ id: m.id, ok: false, error: failureOf(err) } satisfies WorkerAnswer),
    );
  });
}

if (parentPort && (workerData as { statelessWriter?: string } | null)?.statelessWriter) serve((workerData as { statelessWriter: string }).statelessWriter);
