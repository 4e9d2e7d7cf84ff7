import type { Db } from '../journal/database.js';
import type { StoredEntry } from '../journal/entries.js';
import type { Projection } from '../journal/groupCommit.js';

/** Read model of the command catalogue: the latest definition of every action. */
export function createCatalogProjection(db: Db): Projection {
  db.exec(`CREATE TABLE IF NOT EXISTS catalog (
    name            TEXT PRIMARY KEY,
    description     TEXT    NOT NULL,
    args            TEXT    NOT NULL,
    default_timeout INTEGER NOT NULL,
    target_types    TEXT    NOT NULL,
    updated_at      INTEGER NOT NULL,
    updated_seq     INTEGER NOT NULL,
    updated_by      TEXT    NOT NULL
  )`);
  const upsert = db.prepare(
    `INSERT INTO catalog (name, description, args, default_timeout, target_types, updated_at, updated_seq, updated_by)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (name) DO UPDATE SET description = excluded.description, args = excluded.args,
       default_timeout = excluded.default_timeout, target_types = excluded.target_types,
       updated_at = excluded.updated_at, updated_seq = excluded.updated_seq, updated_by = excluded.updated_by`,
  );
  return {
    name: 'catalog',
    project(e: StoredEntry): void {
      if (e.type !== 'CatalogEntryPut') return;
      const d = e.data;
      upsert.run(d.name, d.description, JSON.stringify(d.args), d.defaultTimeout, JSON.stringify(d.targetTypes), e.time, e.seq, e.actor);
    },
  };
}
