import type { JournalRow } from '../journal/readEntries.js';
import type { StatefulResult } from '../projections/statefulBatchesProjection.js';
import type { BulkItemResult, IndexerClient } from '../indexer/indexerClient.js';
import type { Poison } from '../journal/deadLetters.js';
import { INDEXED_TYPES, rowActions, type IndexAction } from './indexerActions.js';
import type { Delivery, Sink, Unit } from './pullPipeline.js';

export interface IndexerUnit extends Unit {
  uid: number;
  actions: IndexAction[];
}

export interface BulkLimits {
  actions: number;
  /** Bulk body bytes at most (OpenSearch accepts 100 MiB; 5–15 MiB is the sweet spot). */
  bytes: number;
}

/** Dead-letter item of an indexer action: its lines, and its stateful reference. */
export interface IndexerItem {
  lines: string[];
  index: string;
  id: string;
  op: IndexAction['op'];
  stateful?: IndexAction['stateful'];
}

/**
 * Chunks a page's actions into bulks. A unit's `lastSeq` is the last row it holds completely:
 * when a row's actions straddle two bulks, the first one cannot move the checkpoint onto it.
 */
export function planBulks(rows: readonly JournalRow[], limits: BulkLimits, nextUid: () => number): IndexerUnit[] {
  const units: IndexerUnit[] = [];
  let cur: IndexerUnit | null = null;
  let bytes = 0;
  for (const row of rows) {
    for (const a of rowActions(row)) {
      if (!cur || cur.actions.length >= limits.actions || (bytes + a.bytes > limits.bytes && cur.actions.length > 0)) {
        if (cur && cur.actions[cur.actions.length - 1]!.seq === a.seq) cur.lastSeq = a.seq - 1;
        cur = { uid: nextUid(), firstSeq: a.seq, lastSeq: a.seq, events: 0, actions: [] };
        units.push(cur);
        bytes = 0;
      }
      cur.actions.push(a);
      cur.events += 1;
      cur.lastSeq = a.seq;
      cur.firstSeq = Math.min(cur.firstSeq, a.seq);
      bytes += a.bytes;
    }
  }
  return units;
}

/** 2xx; a delete of a missing document; a create of a document that is already there (scale-out wrote it first). */
export const isDone = (op: IndexAction['op'], status: number): boolean =>
  (status >= 200 && status < 300) || (op === 'delete' && status === 404) || (op === 'create' && status === 409);
const isRetryable = (r: BulkItemResult) => r.status === 429 || r.status === 408 || r.status >= 500;

export function indexerItem(a: IndexAction): string {
  const item: IndexerItem = { lines: a.lines, index: a.index, id: a.id, op: a.op, ...(a.stateful ? { stateful: a.stateful } : {}) };
  return JSON.stringify(item);
}

export const describeItemError = (r: BulkItemResult): string =>
  `indexer refused the item (${r.status})${r.error ? `: ${r.error.type}: ${r.error.reason}` : ''}`;

/**
 * Units sharing a document must reach OpenSearch in journal order even with several bulks in
 * flight: a unit waits for the earlier units that touch one of its documents to be acknowledged.
 */
function createDocumentGate() {
  const pending = new Map<number, { keys: Set<string>; done: Promise<void>; release: () => void }>();
  return {
    register(unit: IndexerUnit): void {
      let release!: () => void;
      const done = new Promise<void>((r) => (release = r));
      pending.set(unit.uid, { keys: new Set(unit.actions.map((a) => `${a.index}/${a.id}`)), done, release });
    },
    async before(unit: IndexerUnit): Promise<void> {
      const mine = pending.get(unit.uid);
      if (!mine) return;
      const earlier = [...pending.entries()].filter(([uid, p]) => uid < unit.uid && [...mine.keys].some((k) => p.keys.has(k)));
      await Promise.all(earlier.map(([, p]) => p.done));
    },
    release(unit: IndexerUnit): void {
      pending.get(unit.uid)?.release();
      pending.delete(unit.uid);
    },
    clear(): void {
      for (const p of pending.values()) p.release();
      pending.clear();
    },
  };
}

export function createIndexerSink(opts: {
  client: IndexerClient;
  recordResults: (results: readonly StatefulResult[]) => void;
  limits?: BulkLimits;
}): Sink<IndexerUnit> {
  const limits = opts.limits ?? { actions: 2000, bytes: 10 * 1024 * 1024 };
  const gate = createDocumentGate();
  let uid = 0;
  return {
    name: 'indexer',
    types: INDEXED_TYPES,
    plan(rows) {
      gate.clear();
      const units = planBulks(rows, limits, () => ++uid);
      units.forEach(gate.register);
      return units;
    },
    async deliver(unit): Promise<Delivery<IndexerUnit>> {
      await gate.before(unit);
      const r = await opts.client.bulk(unit.actions.flatMap((a) => a.lines));
      if (!r.ok) return { ok: false, reason: r.reason, rest: unit };
      const retry: IndexAction[] = [];
      const poison: Poison[] = [];
      unit.actions.forEach((a, i) => {
        const answer = r.value[i] ?? { status: 500, error: { type: 'missing', reason: 'no answer for this item' } };
        if (isDone(a.op, answer.status)) a.outcome = { status: answer.status, result: answer.result ?? 'ok' };
        else if (isRetryable(answer)) retry.push(a);
        else {
          const reason = describeItemError(answer);
          a.outcome = { status: answer.status, result: 'dead-lettered', error: reason };
          poison.push({ seq: a.seq, item: indexerItem(a), reason });
        }
      });
      if (retry.length === 0) return { ok: true, poison };
      const first = r.value[unit.actions.indexOf(retry[0]!)]!;
      return { ok: false, reason: `${retry.length} items to retry: ${describeItemError(first)}`, rest: { ...unit, actions: retry }, poison };
    },
    acknowledged(unit) {
      gate.release(unit);
      const results: StatefulResult[] = [];
      for (const a of unit.actions) {
        if (!a.stateful || !a.outcome) continue;
        results.push({ batch: a.stateful.batch, position: a.stateful.position, ...a.outcome });
      }
      if (results.length > 0) opts.recordResults(results);
    },
  };
}
