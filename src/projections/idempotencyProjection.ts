import type { Db } from '../journal/database.js';
import type { StoredEntry } from '../journal/entries.js';
import type { Projection } from '../journal/groupCommit.js';

/** Idempotency keys of stateless batches: (agent, key) → the first batch's seq. */
export function createIdempotencyProjection(db: Db): Projection {
  db.exec(`CREATE TABLE IF NOT EXISTS idempotency_keys (
    agent      TEXT    NOT NULL,
    key        TEXT    NOT NULL,
    seq        INTEGER NOT NULL,
    events     INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (agent, key)
  ) WITHOUT ROWID`);
  const insert = db.prepare(
    'INSERT OR IGNORE INTO idempotency_keys (agent, key, seq, events, created_at) VALUES (?, ?, ?, ?, ?)',
  );
  return {
    name: 'idempotency',
    project(e: StoredEntry): void {
      if (e.type === 'StatelessEventsReceived' && e.data.idempotencyKey) {
        insert.run(e.data.agent, e.data.idempotencyKey, e.seq, e.data.events, e.time);
      }
    },
  };
}
