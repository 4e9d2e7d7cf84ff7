import type { Db } from './database.js';
import { chainHash, GENESIS } from './hashChain.js';
import type { JournalRow } from './readEntries.js';

export type VerifyResult = { ok: true; checked: number } | { ok: false; checked: number; first_bad_seq: number };

/**
 * Walks the whole chain from its anchor (the genesis, or the hash of the last pruned entry).
 * Any changed, removed or reordered entry breaks it at the first bad seq.
 */
export function verifyChain(db: Db, onProgress?: (checked: number) => void, onRow?: (row: JournalRow) => void): VerifyResult {
  const anchor = db.prepare('SELECT after_seq, hash FROM chain_anchor WHERE id = 1').get() as
    | { after_seq: number; hash: Buffer }
    | undefined;
  let prevHash = anchor?.hash ?? GENESIS;
  let expectSeq = (anchor?.after_seq ?? 0) + 1;
  let checked = 0;
  const rows = db
    .prepare('SELECT seq, type, stream, time, actor, data, body, hash FROM journal ORDER BY seq')
    .iterate() as IterableIterator<JournalRow>;
  for (const row of rows) {
    const expected = chainHash(prevHash, row);
    if (row.seq !== expectSeq && checked === 0 && !anchor && expectSeq === 1) {
      // a journal that never pruned must start at 1
      return { ok: false, checked, first_bad_seq: row.seq };
    }
    if (row.seq !== expectSeq || !expected.equals(row.hash)) return { ok: false, checked, first_bad_seq: row.seq };
    onRow?.(row);
    prevHash = row.hash;
    expectSeq = row.seq + 1;
    checked += 1;
    if (onProgress && checked % 10000 === 0) onProgress(checked);
  }
  return { ok: true, checked };
}
