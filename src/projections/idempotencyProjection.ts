import type { Db } from '../journal/database.js';
import type { StoredEntry } from '../journal/entries.js';
import type { Projection } from '../journal/groupCommit.js';

/** Idempotency keys of stateless batches: (agent, key) → the first batch's seq and the sha256 of its body. */
export function createIdempotencyProjection(db: Db): Projection {
  db.exec(`CREATE TABLE IF NOT EXISTS idempotency_keys (
    agent      TEXT    NOT NULL,
    key        TEXT    NOT NULL,
    seq        INTEGER NOT NULL,
    events     INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    body_sha256 TEXT,
    PRIMARY KEY (agent, key)
  ) WITHOUT ROWID`);
  // data folders from before the digest: the column is added (their keys match any body, as before)
  const columns = db.prepare<[], { name: string }>('PRAGMA table_info(idempotency_keys)').all();
  if (!columns.some((c) => c.name === 'body_sha256')) db.exec('ALTER TABLE idempotency_keys ADD COLUMN body_sha256 TEXT');
  const insert = db.prepare(
    'INSERT OR IGNORE INTO idempotency_keys (agent, key, seq, events, created_at, body_sha256) VALUES (?, ?, ?, ?, ?, ?)',
  );
  return {
    name: 'idempotency',
    project(e: StoredEntry): void {
      if (e.type === 'StatelessEventsReceived' && e.data.idempotencyKey) {
        insert.run(e.data.agent, e.data.idempotencyKey, e.seq, e.data.events, e.time, e.data.bodySha256 ?? null);
      }
    },
  };
}
