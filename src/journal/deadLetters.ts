import type { Db } from './database.js';

/** A poison item: it cannot be delivered as it is, so it is set aside with the reason. */
export interface Poison {
  seq: number;
  /** What to send again on retry (JSON text the sink understands). */
  item: string;
  reason: string;
}

export interface DeadLetterRow {
  id: number;
  sink: string;
  seq: number;
  item: string | null;
  reason: string;
  created_at: number;
  retried_at: number | null;
  resolved: number;
}

/** The dead_letters table (created by the journal migrations): one prepared statement per operation. */
export function createDeadLetterStore(db: Db) {
  const insert = db.prepare('INSERT INTO dead_letters (sink, seq, item, reason, created_at) VALUES (?, ?, ?, ?, ?)');
  const get = db.prepare<[number], DeadLetterRow>('SELECT * FROM dead_letters WHERE id = ?');
  const retried = db.prepare('UPDATE dead_letters SET retried_at = ?, reason = ? WHERE id = ?');
  const resolve = db.prepare('UPDATE dead_letters SET retried_at = ?, resolved = 1 WHERE id = ?');
  return {
    add(sink: string, p: Poison, now = Date.now()): number {
      return Number(insert.run(sink, p.seq, p.item, p.reason, now).lastInsertRowid);
    },
    get: (id: number): DeadLetterRow | undefined => get.get(id),
    /** A retry failed again: remember when and why. */
    failedAgain(id: number, reason: string, now = Date.now()): void {
      retried.run(now, reason, id);
    },
    resolved(id: number, now = Date.now()): void {
      resolve.run(now, id);
    },
  };
}
export type DeadLetterStore = ReturnType<typeof createDeadLetterStore>;
