import { statSync } from 'node:fs';
import type { Db } from './database.js';

export interface JournalStats {
  head_seq: number;
  first_seq: number;
  entries: number;
  size_bytes: number;
  file_bytes: number;
  checkpoints: Array<{ name: string; seq: number; lag: number; updated_at: string }>;
  dead_letters: { open: number; total: number };
}

export function journalStats(db: Db, file: string): JournalStats {
  const j = db.prepare('SELECT max(seq) AS head, min(seq) AS first, count(*) AS n FROM journal').get() as {
    head: number | null;
    first: number | null;
    n: number;
  };
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const pages = db.pragma('page_count', { simple: true }) as number;
  const free = db.pragma('freelist_count', { simple: true }) as number;
  const head = j.head ?? 0;
  const cps = db.prepare('SELECT name, seq, updated_at FROM checkpoints ORDER BY name').all() as Array<{
    name: string;
    seq: number;
    updated_at: number;
  }>;
  const dl = db.prepare('SELECT count(*) AS total, coalesce(sum(resolved = 0), 0) AS open FROM dead_letters').get() as {
    total: number;
    open: number;
  };
  let fileBytes = 0;
  for (const suffix of ['', '-wal']) {
    try {
      fileBytes += statSync(file + suffix).size;
    } catch {
      /* no such file yet */
    }
  }
  return {
    head_seq: head,
    first_seq: j.first ?? 0,
    entries: j.n,
    size_bytes: (pages - free) * pageSize,
    file_bytes: fileBytes,
    checkpoints: cps.map((c) => ({ name: c.name, seq: c.seq, lag: head - c.seq, updated_at: new Date(c.updated_at).toISOString() })),
    dead_letters: { open: dl.open, total: dl.total },
  };
}
