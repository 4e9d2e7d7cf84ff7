import type { GroupCommit, WrittenElsewhere } from '../journal/groupCommit.js';
import type { AgentId } from '../journal/ids.js';
import { createWorkerCalls, ownsItsMemory, startWorkerBeside } from '../journal/workerThread.js';
import type { IngestStateless, StatelessAck } from './ingestStatelessEvents.js';
import type { ToWorker } from './statelessWriterWorker.js';
import { errorOfWorker } from './workerFailures.js';

/** Bodies from this size on are checked and written in the worker thread (a 1 MiB row costs the loop ~10–20 ms). */
export const OFFLOAD_MIN_BYTES = 256 * 1024;

/**
 * Large stateless batches, off the event loop: the body goes to a worker thread (moved, not
 * copied) that checks it; then the group commit gives the worker a turn, and it writes the batch
 * on its own connection while this thread keeps serving (and commits nothing meanwhile). The
 * worker starts with the first large batch.
 */
export function createStatelessWriter(deps: { file: string; commit: GroupCommit }) {
  const calls = createWorkerCalls(() => startWorkerBeside(import.meta.url, 'statelessWriterWorker', { statelessWriter: deps.file }), errorOfWorker);

  const ingest: IngestStateless = async (agent: AgentId, body: Buffer, idempotencyKey?: string): Promise<StatelessAck> => {
    let checked = 0;
    // a body that owns its memory is moved to the worker; a view into a larger buffer is copied
    await calls.call((id) => ((checked = id), { op: 'check', id, body, idempotencyKey }) satisfies ToWorker, ownsItsMemory(body) ? [body.buffer as ArrayBuffer] : []);
    let written = false;
    try {
      return await deps.commit.turn(() => {
        written = true;
        return calls.call<WrittenElsewhere<StatelessAck>>((id) => ({ op: 'write', id, checked, agent }) satisfies ToWorker);
      });
    } finally {
      if (!written) calls.tell({ op: 'forget', id: checked } satisfies ToWorker);
    }
  };

  return {
    minBytes: OFFLOAD_MIN_BYTES,
    ingest,
    /** Ends the worker (after the journal's group commit closed: no turn is left to give). */
    close: (): Promise<void> => calls.close({ op: 'close' } satisfies ToWorker),
  };
}
export type StatelessWriter = ReturnType<typeof createStatelessWriter>;
