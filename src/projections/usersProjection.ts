import type { Db } from '../journal/database.js';
import type { StoredEntry } from '../journal/entries.js';
import type { Projection } from '../journal/groupCommit.js';

/** Read model of operators and auditors. */
export function createUsersProjection(db: Db): Projection {
  db.exec(`CREATE TABLE IF NOT EXISTS users (
    name          TEXT PRIMARY KEY,
    role          TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
  )`);
  const upsert = db.prepare(
    `INSERT INTO users (name, role, password_hash, created_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (name) DO UPDATE SET role = excluded.role, password_hash = excluded.password_hash`,
  );
  return {
    name: 'users',
    project(e: StoredEntry): void {
      if (e.type === 'UserCreated') upsert.run(e.data.name, e.data.role, e.data.passwordHash, e.time);
    },
  };
}
