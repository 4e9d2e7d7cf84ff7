import { Worker } from 'node:worker_threads';
import type { GroupCommit, WrittenElsewhere } from '../journal/groupCommit.js';
import type { AgentId } from '../journal/ids.js';
import { IdempotencyKeyReusedError, InvalidBatchError, type IngestStateless, type StatelessAck } from './ingestStatelessEvents.js';
import type { FromWorker, ToWorker, WorkerFailure } from './statelessWriterWorker.js';

/** Bodies from this size on are checked and written in the worker thread (a 1 MiB row costs the loop ~10–20 ms). */
export const OFFLOAD_MIN_BYTES = 256 * 1024;

const errorOf = (f: WorkerFailure): Error =>
  f.kind === 'invalid' ? new InvalidBatchError(f.line, f.reason) : f.kind === 'reused' ? new IdempotencyKeyReusedError(f.key, f.seq) : new Error(f.message);

/** The worker's entry: the compiled file, or (tests, under tsx) the TypeScript source loaded through tsx. */
function startWorker(file: string): Worker {
  const workerData = { statelessWriter: file };
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./statelessWriterWorker.js', import.meta.url), { workerData });
  const entry = new URL('./statelessWriterWorker.ts', import.meta.url).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(boot, { eval: true, workerData });
}

/**
 * Large stateless batches, off the event loop: the body goes to a worker thread (transferred, not
 * copied) that checks it; then the group commit gives the worker a turn, and it writes the batch
 * on its own connection while this thread keeps serving (and commits nothing meanwhile). The
 * worker starts with the first large batch.
 */
export function createStatelessWriter(deps: { file: string; commit: GroupCommit }) {
  let worker: Worker | null = null;
  let nextId = 0;
  const waiting = new Map<number, { resolve(v: unknown): void; reject(err: unknown): void }>();

  function started(): Worker {
    if (worker) return worker;
    const w = startWorker(deps.file);
    w.on('message', (m: FromWorker) => {
      const p = waiting.get(m.id);
      waiting.delete(m.id);
      if (m.ok) p?.resolve(m.value);
      else p?.reject(errorOf(m.error));
    });
    const fail = (err: unknown) => {
      if (worker === w) worker = null;
      for (const p of waiting.values()) p.reject(err);
      waiting.clear();
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`the stateless writer thread exited (${code})`)));
    w.unref();
    return (worker = w);
  }

  function ask<T>(w: Worker, m: ToWorker, transfer: ArrayBuffer[] = []): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      waiting.set((m as { id: number }).id, { resolve: resolve as (v: unknown) => void, reject });
      w.postMessage(m, transfer);
    });
  }

  const ingest: IngestStateless = async (agent: AgentId, body: Buffer, idempotencyKey?: string): Promise<StatelessAck> => {
    const w = started();
    const id = ++nextId;
    // a body that owns its memory is moved to the worker; a view into a larger buffer is copied
    const owns = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength && body.buffer instanceof ArrayBuffer;
    await ask(w, { op: 'check', id, body, idempotencyKey }, owns ? [body.buffer as ArrayBuffer] : []);
    let written = false;
    try {
      return await deps.commit.turn(() => {
        written = true;
        return ask<WrittenElsewhere<StatelessAck>>(w, { op: 'write', id, agent });
      });
    } finally {
      if (!written) w.postMessage({ op: 'forget', id } satisfies ToWorker);
    }
  };

  return {
    minBytes: OFFLOAD_MIN_BYTES,
    ingest,
    /** Ends the worker (after the journal's group commit closed: no turn is left to give). */
    async close(): Promise<void> {
      const w = worker;
      if (!w) return;
      worker = null;
      await new Promise<void>((resolve) => {
        w.once('exit', () => resolve());
        w.ref(); // keeps the process alive until the worker closed its connection
        w.postMessage({ op: 'close' } satisfies ToWorker);
      });
    },
  };
}
export type StatelessWriter = ReturnType<typeof createStatelessWriter>;
