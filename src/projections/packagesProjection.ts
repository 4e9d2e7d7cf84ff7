import type { Db } from '../journal/database.js';
import type { StoredEntry } from '../journal/entries.js';
import type { Projection } from '../journal/groupCommit.js';

/** Read model of the package store: name → the content (sha256) of its last upload. */
export function createPackagesProjection(db: Db): Projection {
  db.exec(`CREATE TABLE IF NOT EXISTS packages (
    name        TEXT PRIMARY KEY,
    size        INTEGER NOT NULL,
    sha256      TEXT    NOT NULL,
    uploaded_at INTEGER NOT NULL,
    uploaded_by TEXT    NOT NULL,
    seq         INTEGER NOT NULL
  ) WITHOUT ROWID`);
  const upsert = db.prepare(
    `INSERT INTO packages (name, size, sha256, uploaded_at, uploaded_by, seq) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (name) DO UPDATE SET size = excluded.size, sha256 = excluded.sha256,
       uploaded_at = excluded.uploaded_at, uploaded_by = excluded.uploaded_by, seq = excluded.seq`,
  );
  const remove = db.prepare('DELETE FROM packages WHERE name = ?');
  return {
    name: 'packages',
    project(e: StoredEntry): void {
      if (e.type === 'PackageUploaded') upsert.run(e.data.name, e.data.size, e.data.sha256, e.time, e.actor, e.seq);
      else if (e.type === 'PackageDeleted') remove.run(e.data.name);
    },
  };
}
