import type { Db } from './database.js';
import { createHeadSeq } from './headSeq.js';
import type { JournalRow } from './readEntries.js';

export interface PageLimits {
  /** Rows per page at most. */
  rows: number;
  /** Bytes (data + body) per page at most; a single larger row still makes a page of one. */
  bytes: number;
}

/**
 * One bounded page of journal rows after `afterSeq`, in seq order: the pipelines' source.
 * `types` narrows the rows returned to the ones the sink wants; `throughSeq` tells how far the
 * page looked (the last seq examined), so rows of other types are passed over without being read.
 */
export function createPageReader(db: Db, types: readonly string[]) {
  const placeholders = types.map(() => '?').join(', ');
  const rows = db.prepare<unknown[], JournalRow>(
    `SELECT seq, type, stream, time, actor, data, body, hash FROM journal
     WHERE seq > ? AND type IN (${placeholders}) ORDER BY seq`,
  );
  const head = createHeadSeq(db);
  return (afterSeq: number, limits: PageLimits): { rows: JournalRow[]; throughSeq: number } => {
    // The head is read first: a row committed after it is picked up by the next page.
    const headSeq = head();
    const out: JournalRow[] = [];
    let bytes = 0;
    for (const row of rows.iterate(afterSeq, ...types)) {
      if (row.seq > headSeq) break;
      const size = row.data.length + (row.body?.length ?? 0);
      if (out.length > 0 && (out.length >= limits.rows || bytes + size > limits.bytes)) {
        return { rows: out, throughSeq: out[out.length - 1]!.seq };
      }
      out.push(row);
      bytes += size;
    }
    return { rows: out, throughSeq: Math.max(afterSeq, headSeq) };
  };
}
export type PageReader = ReturnType<typeof createPageReader>;
