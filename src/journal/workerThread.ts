import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { Worker } from 'node:worker_threads';

/** The nice value of the worker threads: under CPU contention the thread serving requests goes first. */
export const WORKER_NICE = 10;

/**
 * Called by a worker thread at its start: lowers its own CPU priority (Linux: `setpriority` on the
 * thread's id, read from /proc/thread-self). Elsewhere, or when refused, the thread keeps its priority.
 */
export function yieldCpuToRequests(): void {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid) && tid > 0) setPriority(tid, WORKER_NICE);
  } catch {
    // not Linux, or not allowed: the same priority as the main thread
  }
}

/**
 * Starts the worker thread whose entry is `name` beside `base` (the caller's `import.meta.url`):
 * the compiled `name.js`, or, when the caller is TypeScript source run under tsx (tests), `name.ts`
 * loaded through tsx's register API (a worker does not inherit the parent's `--import`).
 */
export function startWorkerBeside(base: string, name: string, workerData: unknown): Worker {
  if (!base.endsWith('.ts')) return new Worker(new URL(`./${name}.js`, base), { workerData });
  const entry = new URL(`./${name}.ts`, base).href;
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(boot, { eval: true, workerData });
}

/** Whether `buf` owns all of its memory (then it can be transferred to another thread instead of copied). */
export const ownsItsMemory = (buf: Buffer): boolean =>
  buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength && buf.buffer instanceof ArrayBuffer;

/** What a worker answers to a call: `{id, ok: true, value}` or `{id, ok: false, error}` (a payload the caller decodes). */
export type WorkerAnswer = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: unknown };

/**
 * Calls to one worker thread, started on the first call (again after it died): each call gets an
 * id and is settled by the answer carrying it; a worker that dies rejects what it had. The worker
 * does not keep the process alive, except while a call waits for its answer and while it closes.
 */
export function createWorkerCalls(start: () => Worker, decodeError: (payload: unknown) => Error = (p) => new Error(String(p))) {
  let worker: Worker | null = null;
  let online = false;
  /** A worker that is closing stays referenced until it is gone. */
  const closing = new WeakSet<Worker>();
  let nextId = 0;
  const waiting = new Map<number, { resolve(v: unknown): void; reject(err: unknown): void }>();

  function started(): Worker {
    if (worker) return worker;
    const w = start();
    online = false;
    w.once('online', () => {
      if (worker === w) online = true;
    });
    w.on('message', (m: WorkerAnswer) => {
      const p = waiting.get(m.id);
      waiting.delete(m.id);
      if (waiting.size === 0 && !closing.has(w)) w.unref();
      if (m.ok) p?.resolve(m.value);
      else p?.reject(decodeError(m.error));
    });
    const fail = (err: unknown) => {
      if (worker === w) (worker = null), (online = false);
      for (const p of waiting.values()) p.reject(err);
      waiting.clear();
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`worker thread exited (${code})`)));
    w.unref();
    return (worker = w);
  }

  return {
    /** Whether the worker is running (it is started when it is not: a caller may do the work itself meanwhile). */
    ready(): boolean {
      started();
      return online;
    },
    /** Sends `make(id)` (moving `transfer`); resolves with the answer to that id. */
    call<T>(make: (id: number) => unknown, transfer: ArrayBuffer[] = []): Promise<T> {
      const w = started();
      const id = ++nextId;
      return new Promise<T>((resolve, reject) => {
        // a call being answered keeps the process alive, an idle worker does not
        if (waiting.size === 0) w.ref();
        waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
        w.postMessage(make(id), transfer);
      });
    },
    /** Sends a message that has no answer to the running worker (none: nothing to tell). */
    tell(message: unknown): void {
      worker?.postMessage(message);
    },
    /** Sends `message` (the worker closes its database and its port) and waits until the thread is gone. */
    async close(message: unknown): Promise<void> {
      const w = worker;
      if (!w) return;
      worker = null;
      online = false;
      await new Promise<void>((resolve) => {
        w.once('exit', () => resolve());
        closing.add(w);
        w.ref();
        w.postMessage(message);
      });
    },
  };
}
