import type { Db } from './database.js';

/** The journal's head: the highest seq written (0 when empty). The one place it is read. */
export function createHeadSeq(db: Db): () => number {
  const head = db.prepare<[], number | null>('SELECT max(seq) FROM journal').pluck();
  return () => head.get() ?? 0;
}
