import type { Db } from '../journal/database.js';
import type { StoredEntry } from '../journal/entries.js';
import type { Projection } from '../journal/groupCommit.js';

/** Read model of group configurations: the last `GroupConfigurationPut` of each group. */
export function createGroupsProjection(db: Db): Projection {
  db.exec(`CREATE TABLE IF NOT EXISTS group_configurations (
    grp           TEXT PRIMARY KEY,
    configuration TEXT    NOT NULL,
    etag          TEXT    NOT NULL,
    updated_at    INTEGER NOT NULL,
    updated_seq   INTEGER NOT NULL,
    updated_by    TEXT    NOT NULL
  ) WITHOUT ROWID`);
  const upsert = db.prepare(
    `INSERT INTO group_configurations (grp, configuration, etag, updated_at, updated_seq, updated_by) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (grp) DO UPDATE SET configuration = excluded.configuration, etag = excluded.etag,
       updated_at = excluded.updated_at, updated_seq = excluded.updated_seq, updated_by = excluded.updated_by`,
  );
  return {
    name: 'groups',
    project(e: StoredEntry): void {
      if (e.type !== 'GroupConfigurationPut') return;
      upsert.run(e.data.group, JSON.stringify(e.data.configuration), e.data.etag, e.time, e.seq, e.actor);
    },
  };
}
