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

export interface DeadLetterDto {
  id: number;
  sink: string;
  seq: number;
  reason: string;
  created_at: string;
  retried_at?: string;
  resolved: boolean;
  item: unknown;
}

export interface DeadLetterFilter {
  sink?: string | undefined;
  /** Only the open ones (default), or every one. */
  all?: boolean | undefined;
  afterId?: number | undefined;
  limit: number;
}

function toDto(r: DeadLetterRow): DeadLetterDto {
  let item: unknown = r.item;
  try {
    item = r.item === null ? null : JSON.parse(r.item);
  } catch {
    /* kept as text */
  }
  return {
    id: r.id,
    sink: r.sink,
    seq: r.seq,
    reason: r.reason,
    created_at: new Date(r.created_at).toISOString(),
    ...(r.retried_at ? { retried_at: new Date(r.retried_at).toISOString() } : {}),
    resolved: r.resolved === 1,
    item,
  };
}

/** The dead_letters table (created by the journal migrations): its only SQL, one prepared statement per operation. */
export function createDeadLetterStore(db: Db) {
  const insert = db.prepare('INSERT INTO dead_letters (sink, seq, item, reason, created_at) VALUES (?, ?, ?, ?, ?)');
  const get = db.prepare<[number], DeadLetterRow>('SELECT * FROM dead_letters WHERE id = ?');
  const retried = db.prepare('UPDATE dead_letters SET retried_at = ?, reason = ? WHERE id = ?');
  const resolve = db.prepare('UPDATE dead_letters SET retried_at = ?, resolved = 1 WHERE id = ?');
  const page = db.prepare<[number, string | null, string | null, number, number], DeadLetterRow>(
    `SELECT * FROM dead_letters
     WHERE id > ? AND (? IS NULL OR sink = ?) AND (resolved = 0 OR ? = 1)
     ORDER BY id LIMIT ?`,
  );
  const counts = db.prepare<[], { total: number; open: number }>(
    'SELECT count(*) AS total, coalesce(sum(resolved = 0), 0) AS open FROM dead_letters',
  );
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
    /** Dead letters by id, oldest first, with an id cursor. */
    list: (f: DeadLetterFilter): DeadLetterDto[] =>
      page.all(f.afterId ?? 0, f.sink ?? null, f.sink ?? null, f.all ? 1 : 0, f.limit).map(toDto),
    counts: (): { open: number; total: number } => counts.get() ?? { open: 0, total: 0 },
  };
}
export type DeadLetterStore = ReturnType<typeof createDeadLetterStore>;
