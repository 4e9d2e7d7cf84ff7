import type { Db } from './database.js';

/**
 * Where each index follower is in its index (an OpenSearch `_seq_no`, not a journal seq: kept
 * apart from the sinks' checkpoints, which journal stats compare with the journal head).
 */
export function createFollowerPositions(db: Db) {
  db.exec(`CREATE TABLE IF NOT EXISTS index_followers (
    name       TEXT PRIMARY KEY,
    seq_no     INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  )`);
  const get = db.prepare<[string], { seq_no: number }>('SELECT seq_no FROM index_followers WHERE name = ?');
  const put = db.prepare(
    `INSERT INTO index_followers (name, seq_no, updated_at) VALUES (?, ?, ?)
     ON CONFLICT (name) DO UPDATE SET seq_no = excluded.seq_no, updated_at = excluded.updated_at`,
  );
  return {
    /** -1 before the first document (sequence numbers start at 0). */
    get: (name: string): number => get.get(name)?.seq_no ?? -1,
    store: (name: string, seqNo: number, now: number): void => {
      put.run(name, seqNo, now);
    },
  };
}
export type FollowerPositions = ReturnType<typeof createFollowerPositions>;
