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
import { type Backlog, createBacklogReader } from '../queries/backlog.js';
import { backoffDelay, type BackoffOptions } from './backoff.js';
import { createDeadLetterStore, type Poison } from './deadLetterStore.js';
import { createPageReader, type PageLimits } from './readPage.js';
import type { Delivery, PipelineState, PipelineStatus, Sink, Unit } from './sink.js';

export type { Delivery, PipelineState, PipelineStatus, Sink, Unit } from './sink.js';

export interface PipelineDeps<U extends Unit> {
  db: Db;
  onCommitted(listener: (entries: StoredEntry[]) => void): () => void;
  sink: Sink<U>;
  page?: PageLimits;
  /** Units delivered at once; the checkpoint only moves past a contiguous acknowledged prefix. */
  concurrency?: number;
  /** Longest sleep when caught up (a commit wakes the pipeline sooner). */
  idleMs?: number;
  backoff?: BackoffOptions;
  /** Consecutive failures after which the state is `down` rather than `retrying`. */
  downAfter?: number;
  /** Pause before a run that failed on a bug (not a delivery failure) starts again. */
  restartMs?: number;
  onError?: (message: string, err?: unknown) => void;
}

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

export const checkpointName = (sink: string): string => `sink:${sink}`;

/** The generic pull pipeline: page after the checkpoint → deliver → checkpoint, forever. */
export function createPullPipeline<U extends Unit>(deps: PipelineDeps<U>): Pipeline {
  const { db, sink } = deps;
  const limits = deps.page ?? { rows: 500, bytes: 8 * 1024 * 1024 };
  const backoff = deps.backoff ?? { baseMs: 200, maxMs: 30_000 };
  const concurrency = deps.concurrency ?? 1;
  const cpName = checkpointName(sink.name);
  const readPage = createPageReader(db, sink.types);
  const deadLetters = createDeadLetterStore(db);
  const getCheckpoint = db.prepare<[string], { seq: number }>('SELECT seq FROM checkpoints WHERE name = ?');
  const putCheckpoint = db.prepare(
    `INSERT INTO checkpoints (name, seq, updated_at) VALUES (?, ?, ?)
     ON CONFLICT (name) DO UPDATE SET seq = max(seq, excluded.seq), updated_at = excluded.updated_at`,
  );
  const headSeq = db.prepare('SELECT max(seq) FROM journal').pluck();
  const readBacklog = createBacklogReader(db, sink.types);
  let backlog: { at: number; value: Backlog } | undefined;
  const stop$ = new Subject<void>();
  const nudge$ = new Subject<void>();
  const ackListeners = new Set<(cp: number) => void>();
  let checkpoint = getCheckpoint.get(cpName)?.seq ?? 0;
  let state: PipelineState = 'running';
  let failures = 0;
  let lastError: string | undefined;
  const counters = { delivered_events: 0, delivered_batches: 0, dead_lettered: 0, retries: 0 };
  const recent: Array<{ at: number; events: number }> = [];

  const moveCheckpoint = (seq: number): void => {
    if (seq <= checkpoint) return;
    putCheckpoint.run(cpName, seq, Date.now());
    checkpoint = seq;
  };
  const announce = (): void => {
    for (const l of ackListeners) l(checkpoint);
  };

  const settle = db.transaction((unit: U, poison: readonly Poison[], advanceTo: number | null) => {
    for (const p of poison) deadLetters.add(sink.name, p);
    sink.acknowledged?.(unit, poison);
    if (advanceTo !== null) moveCheckpoint(advanceTo);
  });
  const storePoison = db.transaction((poison: readonly Poison[]) => {
    for (const p of poison) deadLetters.add(sink.name, p);
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
            state = failures >= (deps.downAfter ?? 3) ? 'down' : 'retrying';
            lastError = err instanceof DeliveryFailed ? err.message : `sink failed: ${(err as Error)?.message ?? err}`;
            if (!(err instanceof DeliveryFailed)) deps.onError?.(`${sink.name} sink threw`, err);
            return timer(backoffDelay(attempt, backoff));
          },
        }),
        tap(() => {
          failures = 0;
          state = 'running';
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
        let advanceTo: number | null = null;
        while (next < units.length && done[next]) advanceTo = units[next++]!.lastSeq;
        settle(u, poison, advanceTo);
        counters.delivered_batches += 1;
        counters.delivered_events += u.events;
        counters.dead_lettered += poison.length;
        recent.push({ at: Date.now(), events: u.events });
        if (advanceTo !== null) announce();
      }),
      count(),
      map(() => {
        moveCheckpoint(throughSeq);
        announce();
        return throughSeq;
      }),
    );
  }

  function page$(after: number): Observable<number> {
    const page = readPage(after, limits);
    if (page.rows.length === 0 && page.throughSeq <= after) {
      state = 'caught-up';
      return race(nudge$, timer(deps.idleMs ?? 1000)).pipe(
        take(1),
        map(() => checkpoint),
      );
    }
    if (state === 'caught-up') state = 'running';
    const units = sink.plan(page.rows);
    // Always hop through a promise: a long run of pages without work must not grow the stack.
    if (units.length === 0) {
      return from(Promise.resolve(page.throughSeq)).pipe(
        tap((seq) => {
          moveCheckpoint(seq);
          announce();
        }),
      );
    }
    return deliverPage$(units, page.throughSeq);
  }

  /** One run from the stored checkpoint; a bug (an exception outside a delivery) restarts it after a pause. */
  const run$: Observable<never> = defer(() => {
    checkpoint = Math.max(checkpoint, getCheckpoint.get(cpName)?.seq ?? 0);
    const unsubscribe = deps.onCommitted(() => nudge$.next());
    return of(checkpoint).pipe(
      expand((after) => page$(after)),
      ignoreElements(),
      tap({ finalize: unsubscribe }),
    );
  }).pipe(
    retry({
      delay: (err: unknown) => {
        deps.onError?.(`${sink.name} pipeline failed; restarting it`, err);
        state = 'down';
        lastError = (err as Error)?.message ?? String(err);
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
    status(): PipelineStatus {
      const now = Date.now();
      while (recent.length > 0 && recent[0]!.at < now - 10_000) recent.shift();
      const events = recent.reduce((n, r) => n + r.events, 0);
      const head = (headSeq.get() as number | null) ?? 0;
      return {
        state,
        checkpoint,
        lag: Math.max(0, head - checkpoint),
        ...counters,
        throughput: Math.round(events / 10),
        ...(lastError && state !== 'caught-up' && state !== 'running' ? { last_error: lastError } : {}),
      };
    },
  };
}
