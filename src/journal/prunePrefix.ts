import type { Db } from './database.js';

/**
 * The journal prefix as pruning sees it: where it starts, which seq a time or a size budget
 * reaches, and the removal itself (the chain anchor moves to the last removed entry, so
 * verification starts there). Run inside the prune's write transaction.
 */
export function createPrunePrefix(db: Db) {
  const first = db.prepare<[], number | null>('SELECT min(seq) FROM journal').pluck();
  const lastBefore = db.prepare<[number], number | null>('SELECT max(seq) FROM journal WHERE time < ?').pluck();
  const sizes = db.prepare<[], { seq: number; size: number }>(
    'SELECT seq, length(data) + coalesce(length(body), 0) + 100 AS size FROM journal ORDER BY seq DESC',
  );
  const lastRow = db.prepare<[number], { seq: number; hash: Buffer }>(
    'SELECT seq, hash FROM journal WHERE seq <= ? ORDER BY seq DESC LIMIT 1',
  );
  const count = db.prepare<[number], number>('SELECT count(*) FROM journal WHERE seq <= ?').pluck();
  const remove = db.prepare('DELETE FROM journal WHERE seq <= ?');
  const anchor = db.prepare(
    `INSERT INTO chain_anchor (id, after_seq, hash) VALUES (1, ?, ?)
     ON CONFLICT (id) DO UPDATE SET after_seq = excluded.after_seq, hash = excluded.hash`,
  );
  return {
    firstSeq: (): number => first.get() ?? 0,
    /** The last seq written before `time` (ms), or 0. */
    lastSeqBefore: (time: number): number => lastBefore.get(time) ?? 0,
    /** The highest seq to remove so that the newer rows take at most `maxBytes`, or 0 when they all fit. */
    throughForBytes(maxBytes: number): number {
      let kept = 0;
      for (const r of sizes.iterate()) {
        kept += r.size;
        if (kept > maxBytes) return r.seq;
      }
      return 0;
    },
    /** The last row at or before `seq`: where the prefix really ends, and the hash the anchor takes. */
    lastRowThrough: (seq: number): { seq: number; hash: Buffer } | undefined => lastRow.get(seq),
    countThrough: (seq: number): number => count.get(seq) ?? 0,
    /** Removes every entry ≤ `through` and anchors the chain at `hash` (the last removed entry's). */
    removeThrough(through: number, hash: Buffer): void {
      remove.run(through);
      anchor.run(through, hash);
    },
  };
}
export type PrunePrefix = ReturnType<typeof createPrunePrefix>;
