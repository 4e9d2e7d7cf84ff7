import {
  count,
  defer,
  expand,
  from,
  ignoreElements,
  map,
  mergeMap,
  type Observable,
  of,
  race,
  retry,
  Subject,
  take,
  takeUntil,
  tap,
  timer,
} from 'rxjs';
import type { Db } from '../journal/database.js';
import type { StoredEntry } from '../journal/entries.js';
import { checkpointName, createCheckpoints } from '../journal/checkpoints.js';
import { createHeadSeq } from '../journal/headSeq.js';
import { type Backlog, createBacklogReader } from '../queries/backlog.js';
import { backoffDelay, type BackoffOptions } from './backoff.js';
import { createDeadLetterStore, type Poison } from '../journal/deadLetters.js';
import { createPageReader, type PageLimits } from '../journal/readJournalPage.js';
import type { JournalRow } from '../journal/readEntries.js';
import type { PipelineState, PipelineStatus, Sink, Unit } from './sink.js';

export type { Delivery, PipelineState, PipelineStatus, Sink, Unit } from './sink.js';

export interface PipelineDeps<U extends Unit> {
  db: Db;
  onCommitted(listener: (entries: StoredEntry[]) => void): () => void;
  sink: Sink<U>;
  page?: PageLimits;
  /** Units delivered at once; the checkpoint only moves past a contiguous acknowledged prefix. */
  concurrency?: number;
  /**
   * `unit` (default): the checkpoint is stored after every acknowledged unit; `page`: at the end of
   * each page, in memory at once and on disk at most every `skipStoreMs` (a crash re-sends what was
   * delivered in that time), except where a unit has poison to store or the sink has an
   * `acknowledged` hook (stored with them, at once).
   */
  checkpointEvery?: 'unit' | 'page';
  /** Longest sleep when caught up (a commit wakes the pipeline sooner). */
  idleMs?: number;
  /** How long a checkpoint moved in memory (past skipped entries, or at the end of a page) may wait before it is stored (ms, default 250). */
  skipStoreMs?: number;
  backoff?: BackoffOptions;
  /** Consecutive failures after which the state is `down` rather than `retrying`. */
  downAfter?: number;
  /** Pause before a run that failed on a bug (not a delivery failure) starts again. */
  restartMs?: number;
  onError?: (message: string, err?: unknown) => void;
  /** Told when the pipeline's health changes (ok ↔ retrying ↔ down), with its status then. */
  onTransition?: (from: Health, to: Health, status: PipelineStatus) => void;
  /** Told each item set aside as a dead letter. */
  onDeadLetter?: (sink: string, poison: Poison) => void;
  /** Reads bodies of `minBytes` or more off the event loop (a worker thread); without it they are read with their page. */
  largeBodies?: { minBytes: number; read(seq: number): Promise<Buffer | null> };
}

/** What an operator acts on: `running` and `caught-up` are both ok. */
export type Health = 'ok' | 'retrying' | 'down';
const healthOf = (s: PipelineState): Health => (s === 'retrying' || s === 'down' ? s : 'ok');

export interface Pipeline {
  readonly name: string;
  /** Cold: nothing happens until main.ts subscribes; completes after `stop()`. */
  readonly run$: Observable<never>;
  stop(): void;
  status(): PipelineStatus;
  /** What is not delivered yet (entries, events, oldest time); read at most once a second. */
  backlog(): Backlog;
  /** Told the new checkpoint each time it moves. Returns the unsubscribe function. */
  onAcknowledged(listener: (checkpoint: number) => void): () => void;
}

class DeliveryFailed extends Error {}

/** The generic pull pipeline: page after the checkpoint → deliver → checkpoint, forever. */
export function createPullPipeline<U extends Unit>(deps: PipelineDeps<U>): Pipeline {
  const { db, sink } = deps;
  const limits = deps.page ?? { rows: 500, bytes: 8 * 1024 * 1024 };
  const backoff = deps.backoff ?? { baseMs: 200, maxMs: 30_000 };
  const concurrency = deps.concurrency ?? 1;
  const perPage = deps.checkpointEvery === 'page';
  const cpName = checkpointName(sink.name);
  const readPage = createPageReader(db, sink.types, deps.largeBodies ? { largeBodyBytes: deps.largeBodies.minBytes } : {});
  const deadLetters = createDeadLetterStore(db);
  const checkpoints = createCheckpoints(db);
  const headSeq = createHeadSeq(db);
  const readBacklog = createBacklogReader(db, sink.types);
  let backlog: { at: number; value: Backlog } | undefined;
  const stop$ = new Subject<void>();
  const nudge$ = new Subject<void>();
  const ackListeners = new Set<(cp: number) => void>();
  let checkpoint = checkpoints.get(cpName);
  let stateNow: PipelineState = 'running';
  const pipelineState = {
    get value(): PipelineState {
      return stateNow;
    },
    set value(next: PipelineState) {
      const from = healthOf(stateNow);
      stateNow = next;
      if (healthOf(next) !== from) deps.onTransition?.(from, healthOf(next), statusNow());
    },
  };
  let failures = 0;
  let lastError: string | undefined;
  const counters = { delivered_events: 0, delivered_batches: 0, dead_lettered: 0, retries: 0 };
  const recent: Array<{ at: number; events: number }> = [];

  let stored = checkpoint;
  const moveCheckpoint = (seq: number): void => {
    if (seq <= checkpoint) return;
    checkpoints.advance(cpName, seq);
    checkpoint = stored = seq;
  };
  // Passing entries the sink does not take (commands, deliveries, registrations…) moves the checkpoint
  // in memory at once and on disk at most every `skipStoreMs`: each write is a transaction and an fsync
  // of its own, and one after every commit doubled the fsyncs of the command path. A crash only makes
  // the pipeline read those skipped entries again.
  let storeTimer: ReturnType<typeof setTimeout> | undefined;
  const storeSkipped = (): void => {
    if (storeTimer) clearTimeout(storeTimer);
    storeTimer = undefined;
    if (checkpoint <= stored) return;
    try {
      checkpoints.advance(cpName, checkpoint);
      stored = checkpoint;
    } catch (err) {
      // from a timer: a busy database (another process holding the write lock) must not end the server
      deps.onError?.(`${sink.name} checkpoint not stored; stored with the next one`, err);
    }
  };
  const skipTo = (seq: number): void => {
    if (seq <= checkpoint) return;
    checkpoint = seq;
    if (!storeTimer) {
      storeTimer = setTimeout(storeSkipped, deps.skipStoreMs ?? 250);
      storeTimer.unref?.();
    }
  };
  const announce = (): void => {
    for (const l of ackListeners) l(checkpoint);
  };

  const addDeadLetter = (p: Poison): void => {
    deadLetters.add(sink.name, p);
    deps.onDeadLetter?.(sink.name, p);
  };
  const settle = db.transaction((unit: U, poison: readonly Poison[], advanceTo: number | null) => {
    for (const p of poison) addDeadLetter(p);
    sink.acknowledged?.(unit, poison);
    if (advanceTo !== null) moveCheckpoint(advanceTo);
  });
  const storePoison = db.transaction((poison: readonly Poison[]) => {
    for (const p of poison) addDeadLetter(p);
  });

  function deliver$(unit: U): Observable<readonly Poison[]> {
    return defer(() => {
      let current = unit;
      return defer(() => from(sink.deliver(current))).pipe(
        map((d) => {
          if (d.ok) return d.poison ?? [];
          if (d.poison?.length) {
            storePoison(d.poison);
            counters.dead_lettered += d.poison.length;
          }
          current = d.rest;
          throw new DeliveryFailed(d.reason);
        }),
        retry({
          delay: (err: unknown, attempt: number) => {
            failures += 1;
            counters.retries += 1;
            lastError = err instanceof DeliveryFailed ? err.message : `sink failed: ${(err as Error)?.message ?? err}`;
            pipelineState.value = failures >= (deps.downAfter ?? 3) ? 'down' : 'retrying';
            if (!(err instanceof DeliveryFailed)) deps.onError?.(`${sink.name} sink threw`, err);
            return timer(backoffDelay(attempt, backoff));
          },
        }),
        tap(() => {
          failures = 0;
          pipelineState.value = 'running';
        }),
      );
    });
  }

  function deliverPage$(units: U[], throughSeq: number): Observable<number> {
    const done: boolean[] = units.map(() => false);
    let next = 0;
    return from(units.map((u, i) => [u, i] as const)).pipe(
      mergeMap(([u, i]) => deliver$(u).pipe(map((poison) => ({ u, i, poison }))), concurrency),
      tap(({ u, i, poison }) => {
        done[i] = true;
        counters.delivered_batches += 1;
        counters.delivered_events += u.events;
        counters.dead_lettered += poison.length;
        recent.push({ at: Date.now(), events: u.events });
        if (perPage && poison.length === 0 && !sink.acknowledged) return;
        let advanceTo: number | null = null;
        while (next < units.length && done[next]) advanceTo = units[next++]!.lastSeq;
        // units may interleave (the engine groups a page by agent): never past a row an
        // unacknowledged unit still holds
        if (advanceTo !== null) {
          for (let k = next; k < units.length; k++) if (!done[k]) advanceTo = Math.min(advanceTo, units[k]!.firstSeq - 1);
        }
        settle(u, poison, advanceTo);
        if (advanceTo !== null) announce();
      }),
      count(),
      map(() => {
        // the end of a page (per-page mode: its only store; else past the rows after its last unit)
        // is stored like passed-over entries, at most every `skipStoreMs`: the engine pipeline reads
        // a page after every commit, and an fsync of its own per page doubled the fsyncs of ingest
        skipTo(throughSeq);
        announce();
        return throughSeq;
      }),
    );
  }

  function page$(after: number): Observable<number> {
    const page = readPage(after, limits);
    if (page.rows.length === 0 && page.throughSeq <= after) {
      pipelineState.value = 'caught-up';
      return race(nudge$, timer(deps.idleMs ?? 1000)).pipe(
        take(1),
        map(() => checkpoint),
      );
    }
    if (pipelineState.value === 'caught-up') pipelineState.value = 'running';
    if (page.pending.length === 0) return planned$(page.rows, page.throughSeq);
    // large bodies are read in the worker thread, one after the other (each is up to the body limit)
    return from(readLarge(page.rows, page.pending)).pipe(mergeMap((rows) => planned$(rows, page.throughSeq)));
  }

  async function readLarge(rows: JournalRow[], pending: readonly number[]): Promise<JournalRow[]> {
    const bySeq = new Map(rows.map((r) => [r.seq, r]));
    for (const seq of pending) {
      const row = bySeq.get(seq);
      if (row) row.body = await deps.largeBodies!.read(seq);
    }
    return rows;
  }

  function planned$(rows: JournalRow[], throughSeq: number): Observable<number> {
    const units = sink.plan(rows);
    // Always hop through a promise: a long run of pages without work must not grow the stack.
    if (units.length === 0) {
      return from(Promise.resolve(throughSeq)).pipe(
        tap((seq) => {
          skipTo(seq);
          announce();
        }),
      );
    }
    return deliverPage$(units, throughSeq);
  }

  function statusNow(): PipelineStatus {
    const now = Date.now();
    while (recent.length > 0 && recent[0]!.at < now - 10_000) recent.shift();
    const events = recent.reduce((n, r) => n + r.events, 0);
    const head = headSeq();
    return {
      state: stateNow,
      checkpoint,
      lag: Math.max(0, head - checkpoint),
      ...counters,
      throughput: Math.round(events / 10),
      ...(lastError && stateNow !== 'caught-up' && stateNow !== 'running' ? { last_error: lastError } : {}),
    };
  }

  /** One run from the stored checkpoint; a bug (an exception outside a delivery) restarts it after a pause. */
  const run$: Observable<never> = defer(() => {
    checkpoint = Math.max(checkpoint, checkpoints.get(cpName));
    const unsubscribe = deps.onCommitted(() => nudge$.next());
    return of(checkpoint).pipe(
      expand((after) => page$(after)),
      ignoreElements(),
      tap({
        finalize: () => {
          unsubscribe();
          storeSkipped();
        },
      }),
    );
  }).pipe(
    retry({
      delay: (err: unknown) => {
        deps.onError?.(`${sink.name} pipeline failed; restarting it`, err);
        lastError = (err as Error)?.message ?? String(err);
        pipelineState.value = 'down';
        return timer(deps.restartMs ?? 5000);
      },
    }),
    takeUntil(stop$),
  );

  return {
    name: sink.name,
    run$,
    stop: () => stop$.next(),
    onAcknowledged(listener) {
      ackListeners.add(listener);
      return () => ackListeners.delete(listener);
    },
    backlog(): Backlog {
      const now = Date.now();
      if (!backlog || now - backlog.at >= 1000) backlog = { at: now, value: readBacklog(checkpoint) };
      return backlog.value;
    },
    status: statusNow,
  };
}
