import type { Db } from './database.js';
import type { JournalRow } from './readEntries.js';

/** A journal range to replay: seqs and times inclusive, optionally one agent. */
export interface ReplayRange {
  fromSeq?: number | undefined;
  toSeq?: number | undefined;
  /** ms since the epoch */
  since?: number | undefined;
  until?: number | undefined;
  agent?: string | undefined;
}

const WHERE = `type = 'StatelessEventsReceived' AND seq >= ? AND seq <= ? AND time >= ? AND time <= ?
  AND (? IS NULL OR stream = ?)`;

/** The stateless rows of a range, in pages by seq, and what the range holds. */
export function createReplaySelection(db: Db) {
  const page = db.prepare<unknown[], JournalRow>(
    `SELECT seq, type, stream, time, actor, data, body, hash FROM journal WHERE ${WHERE} ORDER BY seq LIMIT ?`,
  );
  const totals = db.prepare<unknown[], { rows: number; events: number | null; first: number | null; last: number | null }>(
    `SELECT count(*) AS rows, sum(json_extract(data, '$.events')) AS events, min(seq) AS first, max(seq) AS last
     FROM journal WHERE ${WHERE}`,
  );
  const bounds = (r: ReplayRange, from: number) => [
    from,
    r.toSeq ?? Number.MAX_SAFE_INTEGER,
    r.since ?? 0,
    r.until ?? Number.MAX_SAFE_INTEGER,
    r.agent ?? null,
    r.agent ?? null,
  ];
  return {
    totals(r: ReplayRange) {
      const t = totals.get(...bounds(r, r.fromSeq ?? 0))!;
      return { rows: t.rows, events: t.events ?? 0, first_seq: t.first, last_seq: t.last };
    },
    /** Up to `limit` rows of the range with seq ≥ `from`. */
    page: (r: ReplayRange, from: number, limit: number): JournalRow[] => page.all(...bounds(r, from), limit),
  };
}
