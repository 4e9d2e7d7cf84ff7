import type { Db } from './database.js';

/** The checkpoint a sink's pipeline keeps (`sink:engine`, `sink:indexer`). */
export const checkpointName = (sink: string): string => `sink:${sink}`;

/** The checkpoints table: per-sink and per-projection positions in the journal, its only SQL. */
export function createCheckpoints(db: Db) {
  const get = db.prepare<[string], { seq: number }>('SELECT seq FROM checkpoints WHERE name = ?');
  const put = db.prepare(
    `INSERT INTO checkpoints (name, seq, updated_at) VALUES (?, ?, ?)
     ON CONFLICT (name) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at`,
  );
  const forward = db.prepare(
    `INSERT INTO checkpoints (name, seq, updated_at) VALUES (?, ?, ?)
     ON CONFLICT (name) DO UPDATE SET seq = max(seq, excluded.seq), updated_at = excluded.updated_at`,
  );
  const all = db.prepare<[], { name: string; seq: number; updated_at: number }>(
    'SELECT name, seq, updated_at FROM checkpoints ORDER BY name',
  );
  return {
    get: (name: string): number => get.get(name)?.seq ?? 0,
    store: (name: string, seq: number): void => {
      put.run(name, seq, Date.now());
    },
    /** Moves a checkpoint forward only (a concurrent writer that got further wins). */
    advance: (name: string, seq: number): void => {
      forward.run(name, seq, Date.now());
    },
    all: () => all.all(),
  };
}
export type Checkpoints = ReturnType<typeof createCheckpoints>;
