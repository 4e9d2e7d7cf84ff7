import { statSync } from 'node:fs';
import { createCheckpoints } from './checkpoints.js';
import type { Db } from './database.js';
import { createDeadLetterStore } from './deadLetters.js';
import { createHeadSeq } from './headSeq.js';

export interface JournalStats {
  head_seq: number;
  first_seq: number;
  entries: number;
  size_bytes: number;
  file_bytes: number;
  checkpoints: Array<{ name: string; seq: number; lag: number; updated_at: string }>;
  dead_letters: { open: number; total: number };
}

/** Sizes, head, per-sink checkpoints with their lag, dead letters: built from the journal's own operations. */
export function createJournalStats(db: Db, file: string): () => JournalStats {
  const headSeq = createHeadSeq(db);
  const checkpoints = createCheckpoints(db);
  const deadLetters = createDeadLetterStore(db);
  const extent = db.prepare<[], { first: number | null; n: number }>('SELECT min(seq) AS first, count(*) AS n FROM journal');
  return () => {
    const j = extent.get() ?? { first: null, n: 0 };
    const head = headSeq();
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    const pages = db.pragma('page_count', { simple: true }) as number;
    const free = db.pragma('freelist_count', { simple: true }) as number;
    return {
      head_seq: head,
      first_seq: j.first ?? 0,
      entries: j.n,
      size_bytes: (pages - free) * pageSize,
      file_bytes: fileBytes(file),
      checkpoints: checkpoints.all().map((c) => ({ name: c.name, seq: c.seq, lag: head - c.seq, updated_at: new Date(c.updated_at).toISOString() })),
      dead_letters: deadLetters.counts(),
    };
  };
}

/** The database file and its write-ahead log, as they stand on disk. */
function fileBytes(file: string): number {
  let bytes = 0;
  for (const suffix of ['', '-wal']) {
    try {
      bytes += statSync(file + suffix).size;
    } catch {
      /* no such file yet */
    }
  }
  return bytes;
}
