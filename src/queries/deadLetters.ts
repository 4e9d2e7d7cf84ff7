import type { Db } from '../journal/database.js';
import type { DeadLetterRow } from '../journal/deadLetters.js';

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

const statements = new WeakMap<Db, ReturnType<typeof prepare>>();
function prepare(db: Db) {
  return db.prepare<[number, string | null, string | null, number, number], DeadLetterRow>(
    `SELECT * FROM dead_letters
     WHERE id > ? AND (? IS NULL OR sink = ?) AND (resolved = 0 OR ? = 1)
     ORDER BY id LIMIT ?`,
  );
}

/** Dead letters by id, oldest first, with an id cursor. */
export function listDeadLetters(db: Db, f: DeadLetterFilter): DeadLetterDto[] {
  let s = statements.get(db);
  if (!s) statements.set(db, (s = prepare(db)));
  return s.all(f.afterId ?? 0, f.sink ?? null, f.sink ?? null, f.all ? 1 : 0, f.limit).map(toDto);
}
