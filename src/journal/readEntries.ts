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

/** The journal's reads the root samples (the metrics' head); pages and ranges have their own files (readJournalPage, selectReplayRange). */
export function createJournalReader(db: Db) {
  return { headSeq: createHeadSeq(db) };
}
export type JournalReader = ReturnType<typeof createJournalReader>;
