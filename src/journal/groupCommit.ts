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
  /** Longest a queued job waits for work that holds the commit (`hold()`); 5 ms unless told. */
  maxHoldMs?: number;
  /**
   * Under write pressure a commit starts no sooner after the previous one ended than that one
   * took (its fsync), and at most `commitWindowMs` later (4 ms unless told; 0: never waits): commits
   * that follow each other then carry more jobs each, and the event loop spends at most about
   * half its time in fsync. A job that arrives after a quiet spell is committed at once.
   */
  commitWindowMs?: number;
}

interface Job {
  work: Work<unknown>;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

/** What a write done elsewhere (another connection, in a worker thread) answers: its value and the entries it committed. */
export interface WrittenElsewhere<T> {
  value: T;
  entries: StoredEntry[];
}

/** A unit of work written by someone else in its turn: nothing is written here meanwhile. */
interface Turn {
  write: () => Promise<WrittenElsewhere<unknown>>;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}
const isTurn = (q: Job | Turn): q is Turn => 'write' in q;

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
  let queue: Array<Job | Turn> = [];
  let scheduled = false;
  /** A turn is being written elsewhere: flushes wait until it settles (they never block on SQLite's lock). */
  let away = false;
  let closed = false;
  let idle: Array<() => void> = [];
  /** Work about to be queued (a body being checked in another thread): the next commit waits for it, at most `maxHoldMs`. */
  let holds = 0;
  let queuedSince = 0;
  let waitTimer: NodeJS.Timeout | null = null;
  const maxHoldMs = opts.maxHoldMs ?? 5;
  const commitWindowMs = opts.commitWindowMs ?? 4;
  /** When the last commit ended and how long it took (ms, performance.now()). */
  let lastEnd = Number.NEGATIVE_INFINITY;
  let lastTook = 0;
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

  /** Why nothing may be written now (the data folder lock is lost, the journal is full), or null. */
  function refusal(): Error | null {
    const refused = opts.admit?.();
    if (refused) return refused;
    const size = sizeBytes();
    return size >= quotaBytes ? new JournalFullError(size, quotaBytes) : null;
  }

  function schedule(): void {
    if (scheduled) return;
    scheduled = true;
    setImmediate(flush);
  }

  /**
   * How much longer the queued jobs wait (ms; 0: commit now): for held work (`hold()`), and for
   * the commit window after a commit that just ended. A turn written elsewhere never waits.
   */
  function waitLeft(): number {
    if (queue.length === 0 || isTurn(queue[0]!)) return 0;
    const now = performance.now();
    const held = holds > 0 ? maxHoldMs - (now - queuedSince) : 0;
    const window = Math.min(commitWindowMs, lastTook) - (now - lastEnd);
    return Math.max(held, window, 0);
  }

  function flush(): void {
    scheduled = false;
    if (away) return;
    const left = waitLeft();
    if (left > 0) {
      waitTimer ??= setTimeout(() => {
        waitTimer = null;
        schedule();
      }, left);
      return;
    }
    if (waitTimer) clearTimeout(waitTimer);
    waitTimer = null;
    const cut = queue.findIndex(isTurn);
    const batch = (cut === -1 ? queue : queue.slice(0, cut)) as Job[];
    queue = cut === -1 ? [] : queue.slice(cut);
    if (batch.length > 0) commitBatch(batch);
    const turn = queue[0];
    if (turn && isTurn(turn)) {
      queue.shift();
      return giveTurn(turn);
    }
    settleIdle();
  }

  function commitBatch(batch: Job[]): void {
    const refused = refusal();
    if (refused) {
      for (const job of batch) job.reject(refused);
      return;
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
      return;
    }
    lastEnd = performance.now();
    lastTook = lastEnd - started;
    counted(batch.length, committed.length, lastTook);
    batch.forEach((job, i) => {
      const o = outcomes[i]!;
      if (o.ok) job.resolve(o.value);
      else job.reject(o.value);
    });
    if (committed.length > 0) opts.onCommitted?.(committed);
  }

  function counted(jobs: number, entries: number, ms: number): void {
    stats.commits += 1;
    stats.jobs += jobs;
    stats.entries += entries;
    stats.lastBatch = jobs;
    opts.onFlushed?.(jobs, entries, ms);
  }

  /** Lets a turn write elsewhere; this side writes again once it settled, so the two never wait on each other's lock. */
  function giveTurn(turn: Turn): void {
    const refused = refusal();
    if (refused) {
      turn.reject(refused);
      return flush();
    }
    away = true;
    const started = performance.now();
    Promise.resolve().then(turn.write).then(
      ({ value, entries }) => {
        counted(1, entries.length, performance.now() - started);
        turn.resolve(value);
        if (entries.length > 0) opts.onCommitted?.(entries);
      },
      (err: unknown) => turn.reject(err),
    ).finally(() => {
      away = false;
      flush();
    });
  }

  function settleIdle(): void {
    if (queue.length > 0 || scheduled || away) return;
    const waiting = idle;
    idle = [];
    for (const w of waiting) w();
  }

  function enqueue<T>(make: (resolve: (v: unknown) => void, reject: (err: unknown) => void) => Job | Turn): Promise<T> {
    if (closed) return Promise.reject(new JournalClosedError());
    return new Promise<T>((resolve, reject) => {
      if (queue.length === 0) queuedSince = performance.now();
      queue.push(make(resolve as (v: unknown) => void, reject));
      schedule();
    });
  }

  return {
    stats,
    sizeBytes,
    /** Runs `work` in the next group transaction; resolves with its value once committed. */
    run<T>(work: Work<T>): Promise<T> {
      return enqueue<T>((resolve, reject) => ({ work, resolve, reject }));
    },
    /**
     * Gives `write` a turn of its own: it runs after what is queued before it has committed, and
     * nothing is committed here until it settles (another connection, e.g. in a worker thread,
     * writes meanwhile without either side blocking on SQLite's lock). Its entries are announced
     * to `onCommitted` like this side's, in seq order.
     */
    turn<T>(write: () => Promise<WrittenElsewhere<T>>): Promise<T> {
      return enqueue<T>((resolve, reject) => ({ write, resolve, reject }));
    },
    /**
     * Says that a job is about to be queued (its body is being checked elsewhere): until the
     * returned release is called, a commit waits for it, each queued job at most `maxHoldMs`, so
     * bodies checked at about the same time share one fsync. Release after queueing the job.
     */
    hold(): () => void {
      holds += 1;
      let released = false;
      return () => {
        if (released) return;
        released = true;
        holds -= 1;
        if (holds === 0 && queue.length > 0) schedule();
      };
    },
    /** Resolves when nothing is queued any more. */
    flushed(): Promise<void> {
      if (queue.length === 0 && !scheduled && !away) return Promise.resolve();
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
