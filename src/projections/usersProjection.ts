import type { Db } from '../journal/database.js';
import type { StoredEntry } from '../journal/entries.js';
import type { Projection } from '../journal/groupCommit.js';

/**
 * Read models of operators and auditors (`users`, with `disabled`), of the times from which a
 * user's earlier tokens are refused (`revoked_users`: its last disable or deletion), and of
 * API keys (`api_keys`: only the key's SHA-256, `revoked_at` once revoked).
 */
export function createUsersProjection(db: Db): Projection {
  db.exec(`CREATE TABLE IF NOT EXISTS users (
    name          TEXT PRIMARY KEY,
    role          TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
  );
  CREATE TABLE IF NOT EXISTS revoked_users (name TEXT PRIMARY KEY, revoked_at INTEGER NOT NULL) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS api_keys (
    id         TEXT PRIMARY KEY,
    name       TEXT    NOT NULL,
    role       TEXT    NOT NULL,
    key_hash   TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    created_by TEXT    NOT NULL,
    revoked_at INTEGER
  ) WITHOUT ROWID;`);
  // data folders made before users could be disabled
  const columns = db.prepare<[], { name: string }>('PRAGMA table_info(users)').all().map((c) => c.name);
  if (!columns.includes('disabled')) db.exec('ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0');
  if (!columns.includes('changed_at')) db.exec('ALTER TABLE users ADD COLUMN changed_at INTEGER');
  const s = {
    upsert: db.prepare(
      `INSERT INTO users (name, role, password_hash, created_at, disabled, changed_at) VALUES (?, ?, ?, ?, 0, ?)
       ON CONFLICT (name) DO UPDATE SET role = excluded.role, password_hash = excluded.password_hash, changed_at = excluded.changed_at`,
    ),
    disabled: db.prepare('UPDATE users SET disabled = ?, changed_at = ? WHERE name = ?'),
    remove: db.prepare('DELETE FROM users WHERE name = ?'),
    revoke: db.prepare(
      'INSERT INTO revoked_users (name, revoked_at) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET revoked_at = excluded.revoked_at',
    ),
    key: db.prepare('INSERT OR IGNORE INTO api_keys (id, name, role, key_hash, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?)'),
    revokeKey: db.prepare('UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL'),
  };
  return {
    name: 'users',
    project(e: StoredEntry): void {
      switch (e.type) {
        case 'UserCreated':
          s.upsert.run(e.data.name, e.data.role, e.data.passwordHash, e.time, e.time);
          return;
        case 'UserDisabled':
          s.disabled.run(1, e.time, e.data.name);
          s.revoke.run(e.data.name, e.time);
          return;
        case 'UserEnabled':
          s.disabled.run(0, e.time, e.data.name);
          return;
        case 'UserDeleted':
          s.remove.run(e.data.name);
          s.revoke.run(e.data.name, e.time);
          return;
        case 'ApiKeyCreated':
          s.key.run(e.data.id, e.data.name, e.data.role, e.data.keyHash, e.data.createdAt ?? e.time, e.data.createdBy ?? e.actor);
          return;
        case 'ApiKeyRevoked':
          s.revokeKey.run(e.time, e.data.id);
          return;
        default:
          return;
      }
    },
  };
}
