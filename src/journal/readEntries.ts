import type { Db } from './database.js';
import type { StoredEntry } from './entries.js';
import { createHeadSeq } from './headSeq.js';

export interface JournalRow {
  seq: number;
  type: string;
  stream: string;
  time: number;
  actor: string;
  data: string;
  body: Buffer | null;
  hash: Buffer;
}

export function rowToEntry(row: JournalRow): StoredEntry {
  const entry = {
    seq: row.seq,
    type: row.type,
    stream: row.stream,
    time: row.time,
    actor: row.actor,
    data: JSON.parse(row.data),
  } as StoredEntry;
  if (row.body) entry.body = row.body;
  return entry;
}

/** Bounded reads in journal order: the pipelines' and projections' source. */
export function createJournalReader(db: Db) {
  const after = db.prepare<[number, number], JournalRow>(
    'SELECT seq, type, stream, time, actor, data, body, hash FROM journal WHERE seq > ? ORDER BY seq LIMIT ?',
  );
  const range = db.prepare<[number, number, number], JournalRow>(
    'SELECT seq, type, stream, time, actor, data, body, hash FROM journal WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?',
  );
  const head = createHeadSeq(db);
  const first = db.prepare<[], { seq: number | null }>('SELECT min(seq) AS seq FROM journal');
  return {
    /** Up to `limit` rows with seq > `afterSeq`, in order. */
    rowsAfter: (afterSeq: number, limit: number): JournalRow[] => after.all(afterSeq, limit),
    rowsBetween: (afterSeq: number, toSeq: number, limit: number): JournalRow[] => range.all(afterSeq, toSeq, limit),
    entriesAfter: (afterSeq: number, limit: number): StoredEntry[] => after.all(afterSeq, limit).map(rowToEntry),
    headSeq: head,
    firstSeq: (): number => first.get()?.seq ?? 0,
  };
}
export type JournalReader = ReturnType<typeof createJournalReader>;
