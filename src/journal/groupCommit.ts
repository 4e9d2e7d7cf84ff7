import type { Appender } from './appendToJournal.js';
import type { Db } from './database.js';
import type { Entry, StoredEntry } from './entries.js';
import { JournalClosedError, JournalFullError, mapSqliteError } from './errors.js';

/** What a unit of work sees inside the shared transaction. */
export interface Tx {
  /** Appends an entry (and applies it to every projection, in the same transaction). */
  append(entry: Entry): StoredEntry;
  /** The commit's clock, in ms since the epoch; the same for every entry of one commit. */
  readonly now: number;
}
export type Work<T> = (tx: Tx) => T;

export interface Projection {
  readonly name: string;
  project(entry: StoredEntry): void;
}

export interface GroupCommitStats {
  commits: number;
  jobs: number;
  entries: number;
  lastBatch: number;
}

export interface GroupCommitOptions {
  db: Db;
  appender: Appender;
  projections: readonly Projection[];
  quotaBytes: number;
  now?: () => number;
  /** Told about every commit, after it is durable: entries in seq order. */
  onCommitted?: (entries: StoredEntry[]) => void;
  /** Told the size and fsync time (ms) of every commit (metrics). */
  onFlushed?: (jobs: number, entries: number, ms: number) => void;
  /** Asked before each commit: an error refuses the whole batch (the node lost its data folder lock). */
  admit?: () => Error | null;
}

interface Job {
  work: Work<unknown>;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

/**
 * Group commit: every unit of work that arrives in the same event-loop turn runs in one
 * IMMEDIATE transaction (each under its own savepoint, so one failing job rolls back only
 * itself) and shares one COMMIT, i.e. one fsync. Each caller is resolved after that commit;
 * a failing COMMIT rejects every caller in it.
 */
export function createGroupCommit(opts: GroupCommitOptions) {
  const { db, appender, projections, quotaBytes } = opts;
  const now = opts.now ?? Date.now;
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const pageCount = db.prepare('PRAGMA page_count').pluck();
  const freePages = db.prepare('PRAGMA freelist_count').pluck();
  const begin = db.prepare('BEGIN IMMEDIATE');
  const commitTx = db.prepare('COMMIT');
  const rollbackTx = db.prepare('ROLLBACK');
  const savepoint = db.prepare('SAVEPOINT job');
  const release = db.prepare('RELEASE job');
  const rollbackTo = db.prepare('ROLLBACK TO job');
  let queue: Job[] = [];
  let scheduled = false;
  let closed = false;
  let idle: Array<() => void> = [];
  const stats: GroupCommitStats = { commits: 0, jobs: 0, entries: 0, lastBatch: 0 };

  function sizeBytes(): number {
    return ((pageCount.get() as number) - (freePages.get() as number)) * pageSize;
  }

  function runJobs(batch: Job[], time: number, committed: StoredEntry[]): Array<{ ok: boolean; value: unknown }> {
    const tx: Tx = {
      now: time,
      append(entry) {
        const stored = appender.append(entry, time);
        for (const p of projections) p.project(stored);
        committed.push(stored);
        return stored;
      },
    };
    return batch.map((job) => {
      const mark = appender.mark();
      const start = committed.length;
      savepoint.run();
      try {
        const value = job.work(tx);
        release.run();
        return { ok: true, value };
      } catch (err) {
        rollbackTo.run();
        release.run();
        appender.restore(mark);
        committed.length = start;
        return { ok: false, value: mapSqliteError(err) };
      }
    });
  }

  function flush(): void {
    scheduled = false;
    const batch = queue;
    queue = [];
    if (batch.length === 0) return settleIdle();
    const refused = opts.admit?.();
    if (refused) {
      for (const job of batch) job.reject(refused);
      return settleIdle();
    }
    const size = sizeBytes();
    if (size >= quotaBytes) {
      const err = new JournalFullError(size, quotaBytes);
      for (const job of batch) job.reject(err);
      return settleIdle();
    }
    const committed: StoredEntry[] = [];
    const started = performance.now();
    let outcomes: Array<{ ok: boolean; value: unknown }>;
    try {
      begin.run();
      appender.begin();
      outcomes = runJobs(batch, now(), committed);
      commitTx.run();
    } catch (err) {
      if (db.inTransaction) rollbackTx.run();
      appender.reset();
      for (const job of batch) job.reject(err);
      return settleIdle();
    }
    stats.commits += 1;
    stats.jobs += batch.length;
    stats.entries += committed.length;
    stats.lastBatch = batch.length;
    opts.onFlushed?.(batch.length, committed.length, performance.now() - started);
    batch.forEach((job, i) => {
      const o = outcomes[i]!;
      if (o.ok) job.resolve(o.value);
      else job.reject(o.value);
    });
    if (committed.length > 0) opts.onCommitted?.(committed);
    settleIdle();
  }

  function settleIdle(): void {
    if (queue.length > 0 || scheduled) return;
    const waiting = idle;
    idle = [];
    for (const w of waiting) w();
  }

  return {
    stats,
    sizeBytes,
    /** Runs `work` in the next group transaction; resolves with its value once committed. */
    run<T>(work: Work<T>): Promise<T> {
      if (closed) return Promise.reject(new JournalClosedError());
      return new Promise<T>((resolve, reject) => {
        queue.push({ work, resolve: resolve as (v: unknown) => void, reject });
        if (!scheduled) {
          scheduled = true;
          setImmediate(flush);
        }
      });
    },
    /** Resolves when nothing is queued any more. */
    flushed(): Promise<void> {
      if (queue.length === 0 && !scheduled) return Promise.resolve();
      return new Promise((resolve) => idle.push(resolve));
    },
    /** Refuses new work, then commits what is queued. */
    async close(): Promise<void> {
      closed = true;
      await this.flushed();
    },
  };
}
export type GroupCommit = ReturnType<typeof createGroupCommit>;
