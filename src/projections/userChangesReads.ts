import { preparedOnce, type Db } from '../journal/database.js';
import type { UserRow } from './usersReads.js';

function prepare(db: Db) {
  return {
    changedSince: db.prepare<[number, number], UserRow & { at: number }>(
      'SELECT *, coalesce(changed_at, created_at) AS at FROM users WHERE coalesce(changed_at, created_at) > ? ORDER BY at LIMIT ?',
    ),
    lastChange: db.prepare<[string], { actor: string; time: number }>('SELECT actor, time FROM journal WHERE stream = ? ORDER BY seq DESC LIMIT 1'),
  };
}
const stmts = preparedOnce(prepare);

/** Up to `limit` users created or changed after `sinceMs`, oldest change first, with that time as `at`. */
export function usersChangedSince(db: Db, sinceMs: number, limit: number): Array<UserRow & { at: number }> {
  return stmts(db).changedSince.all(sinceMs, limit);
}

/** Who journaled the user's last change here, and when; undefined once those entries were pruned. */
export function lastUserChange(db: Db, name: string): { actor: string; time: number } | undefined {
  return stmts(db).lastChange.get(`user:${name}`);
}
