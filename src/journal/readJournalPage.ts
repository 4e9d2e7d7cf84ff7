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
 * The page is cut by the rows' sizes (SQLite reads a blob's length without its content), then only
 * its rows are read: a 10 MB row past the cut is not read to be thrown away.
 */
export function createPageReader(db: Db, types: readonly string[], opts: { largeBodyBytes?: number } = {}) {
  const placeholders = types.map(() => '?').join(', ');
  const large = opts.largeBodyBytes ?? Number.MAX_SAFE_INTEGER;
  const sizes = db.prepare<unknown[], { seq: number; size: number; body_bytes: number | null }>(
    `SELECT seq, length(data) + coalesce(length(body), 0) AS size, length(body) AS body_bytes FROM journal
     WHERE seq > ? AND type IN (${placeholders}) ORDER BY seq`,
  );
  const rows = db.prepare<unknown[], JournalRow>(
    `SELECT seq, type, stream, time, actor, data, CASE WHEN length(body) >= ? THEN NULL ELSE body END AS body, hash FROM journal
     WHERE seq > ? AND seq <= ? AND type IN (${placeholders}) ORDER BY seq`,
  );
  const head = createHeadSeq(db);
  /** `pending`: rows whose body (of `largeBodyBytes` or more) was left out, for the caller to read elsewhere. */
  return (afterSeq: number, limits: PageLimits): { rows: JournalRow[]; throughSeq: number; pending: number[] } => {
    // The head is read first: a row committed after it is picked up by the next page.
    const headSeq = head();
    let count = 0;
    let bytes = 0;
    let last = afterSeq;
    let cut = false;
    const pending: number[] = [];
    for (const row of sizes.iterate(afterSeq, ...types)) {
      if (row.seq > headSeq) break;
      if (count > 0 && (count >= limits.rows || bytes + row.size > limits.bytes)) {
        cut = true;
        break;
      }
      count += 1;
      bytes += row.size;
      last = row.seq;
      if ((row.body_bytes ?? 0) >= large) pending.push(row.seq);
    }
    const page = count === 0 ? [] : rows.all(large, afterSeq, last, ...types);
    return { rows: page, throughSeq: cut ? last : Math.max(afterSeq, headSeq), pending };
  };
}
export type PageReader = ReturnType<typeof createPageReader>;
