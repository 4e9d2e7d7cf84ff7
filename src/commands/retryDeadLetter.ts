import type { Db } from '../journal/database.js';
import type { Entry } from '../journal/entries.js';
import type { GroupCommit } from '../journal/groupCommit.js';
import { createDeadLetterStore } from '../pipelines/deadLetterStore.js';
import type { IndexerItem } from '../pipelines/indexerSink.js';
import type { Resender } from '../pipelines/sinkSenders.js';
import type { StatefulResult } from '../projections/statefulBatchesProjection.js';

export class UnknownDeadLetterError extends Error {}
export class DeadLetterResolvedError extends Error {}
/** The sink refused the item again (a poison item is still poison): the reason says why. */
export class StillFailingError extends Error {}
/** The sink is down or not configured: try again later. */
export class SinkUnavailableError extends Error {
  readonly retryAfter = 30;
}

export interface RetriedDeadLetter {
  id: number;
  sink: string;
  seq: number;
  resolved: true;
}

/** Pure decision: a resolved dead letter is journaled as retried once. */
export function decideRetryDeadLetter(
  row: { id: number; seq: number; resolved: number } | undefined,
  id: number,
  actor: string,
): Entry[] {
  if (!row) throw new UnknownDeadLetterError(`no dead letter ${id}`);
  if (row.resolved) throw new DeadLetterResolvedError(`dead letter ${id} was already delivered`);
  return [{ type: 'DeadLetterRetried', stream: `dead-letter:${id}`, actor, data: { id, seq: row.seq } }];
}

/**
 * Sends a dead-lettered item to its sink now. On success the dead letter is resolved and a
 * `DeadLetterRetried` entry journaled; a refusal leaves it open with the new reason.
 */
export function retryDeadLetter(deps: {
  db: Db;
  commit: GroupCommit;
  resenders: Partial<Record<string, Resender>>;
  recordStatefulResults?: (results: readonly StatefulResult[]) => void;
}) {
  const store = createDeadLetterStore(deps.db);
  return async (id: number, actor: string): Promise<RetriedDeadLetter> => {
    const row = store.get(id);
    decideRetryDeadLetter(row, id, actor);
    const resend = deps.resenders[row!.sink];
    if (!resend) throw new SinkUnavailableError(`the ${row!.sink} sink is not configured on this node`);
    const r = await resend(row!.item ?? '');
    if (!r.ok) {
      store.failedAgain(id, r.reason);
      if (r.retryable) throw new SinkUnavailableError(`the ${row!.sink} sink is unavailable: ${r.reason}`);
      throw new StillFailingError(`still failing: ${r.reason}`);
    }
    await deps.commit.run((tx) => {
      decideRetryDeadLetter(store.get(id), id, actor).forEach(tx.append);
      store.resolved(id, tx.now);
      const ref = row!.sink === 'indexer' ? (JSON.parse(row!.item ?? '{}') as IndexerItem).stateful : undefined;
      if (ref && deps.recordStatefulResults) {
        deps.recordStatefulResults([{ batch: ref.batch, position: ref.position, status: r.status ?? 200, result: r.result ?? 'ok' }]);
      }
    });
    return { id, sink: row!.sink, seq: row!.seq, resolved: true };
  };
}

/** Pure decision: an open dead letter can be given up on, once. */
export function decideDiscardDeadLetter(row: { id: number; seq: number; resolved: number } | undefined, id: number, actor: string): Entry[] {
  if (!row) throw new UnknownDeadLetterError(`no dead letter ${id}`);
  if (row.resolved) throw new DeadLetterResolvedError(`dead letter ${id} is already resolved`);
  return [{ type: 'DeadLetterDiscarded', stream: `dead-letter:${id}`, actor, data: { id, seq: row.seq } }];
}

/** Resolves a dead letter without sending it (`DeadLetterDiscarded`, with the actor). */
export function discardDeadLetter(deps: { db: Db; commit: GroupCommit }) {
  const store = createDeadLetterStore(deps.db);
  return (id: number, actor: string): Promise<{ id: number; sink: string; seq: number; resolved: true }> =>
    deps.commit.run((tx) => {
      const row = store.get(id);
      decideDiscardDeadLetter(row, id, actor).forEach(tx.append);
      store.resolved(id, tx.now);
      return { id, sink: row!.sink, seq: row!.seq, resolved: true as const };
    });
}
