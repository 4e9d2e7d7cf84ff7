import { catchError, defer, EMPTY, exhaustMap, filter, ignoreElements, type Observable, Subject, takeUntil, tap, timer } from 'rxjs';
import type { GroupCommit } from '../journal/groupCommit.js';
import type { FollowedDoc } from '../indexer/indexedDocs.js';
import type { IndexerResult } from '../indexer/indexerClient.js';
import { backoffDelay } from '../pipelines/backoff.js';
import type { FollowerPositions } from '../journal/followerPositions.js';

export interface IndexFollowerDeps<T> {
  /** The position's name. */
  name: string;
  /** Up to `size` documents changed after `after`, in `_seq_no` order. */
  changedAfter(after: number, size: number): Promise<IndexerResult<FollowedDoc<T>[]>>;
  /** What a page of changed documents means here, journaled; resolves once durable. */
  apply(docs: T[]): Promise<unknown>;
  positions: FollowerPositions;
  commit: GroupCommit;
  /** Polls only while this is true (e.g. while agents are connected). */
  active(): boolean;
  intervalMs: number;
  pageSize?: number;
  /**
   * How long a document stays in the re-read window. A search sees documents after a refresh
   * (1 s): a write with a lower `_seq_no` may become visible after a higher one was read, so
   * each poll reads again from the position of `settleMs` ago (applying is idempotent).
   */
  settleMs?: number;
  now?: () => number;
  onError(err: unknown): void;
}

export interface IndexFollower {
  /** Cold; only main.ts subscribes. Completes after `stop()`. */
  run$: Observable<never>;
  /** The settled position (persisted) and the highest `_seq_no` read so far. */
  status(): { settled: number; seen: number; failures: number };
  stop(): void;
}

/**
 * Follows an index by sequence number: every `intervalMs` while `active()`, pages through the
 * documents changed after the settled position (bounded pages, in order), applies the ones not
 * applied yet through the journal, then moves the position. A failing poll is retried on a later tick after
 * a capped back-off; one poll at a time.
 */
export function createIndexFollower<T>(deps: IndexFollowerDeps<T>): IndexFollower {
  const now = deps.now ?? Date.now;
  const pageSize = deps.pageSize ?? 500;
  const settleMs = deps.settleMs ?? 2500;
  let settled = deps.positions.get(deps.name);
  let seen = settled;
  const marks: Array<{ seqNo: number; at: number }> = [];
  /** Sequence numbers applied in the re-read window (an updated document gets a new one): not applied twice. */
  const applied = new Set<number>();
  let failures = 0;
  let retryAt = 0;
  const stop$ = new Subject<void>();

  async function poll(): Promise<void> {
    let cursor = settled;
    for (;;) {
      const page = await deps.changedAfter(cursor, pageSize);
      if (!page.ok) throw new Error(page.reason);
      const fresh = page.value.filter((d) => !applied.has(d.seqNo));
      const docs = fresh.flatMap((d) => (d.doc === undefined ? [] : [d.doc]));
      if (docs.length > 0) await deps.apply(docs);
      for (const d of fresh) applied.add(d.seqNo);
      if (page.value.length > 0) cursor = page.value[page.value.length - 1]!.seqNo;
      if (page.value.length < pageSize) break;
    }
    seen = Math.max(seen, cursor);
    const at = now();
    marks.push({ seqNo: seen, at });
    let next = settled;
    while (marks.length > 0 && marks[0]!.at <= at - settleMs) next = marks.shift()!.seqNo;
    if (next !== settled) {
      settled = next;
      for (const s of applied) if (s <= next) applied.delete(s);
      await deps.commit.run((tx) => deps.positions.store(deps.name, next, tx.now));
    }
  }

  /** A bug in `active` must not end the follower: reported, and that tick is skipped. */
  function shouldPoll(): boolean {
    if (now() < retryAt) return false;
    try {
      return deps.active();
    } catch (err) {
      deps.onError(err);
      return false;
    }
  }

  const run$ = timer(0, deps.intervalMs).pipe(
    filter(shouldPoll),
    exhaustMap(() =>
      defer(() => poll()).pipe(
        catchError((err: unknown) => {
          failures += 1;
          retryAt = now() + backoffDelay(failures, { baseMs: 500, maxMs: 30_000 });
          deps.onError(err);
          return EMPTY;
        }),
      ),
    ),
    tap(() => (failures = 0)),
    ignoreElements(),
    takeUntil(stop$),
  );

  return {
    run$,
    status: () => ({ settled, seen, failures }),
    stop: () => stop$.next(),
  };
}
