import type { Db } from '../journal/database.js';
import type { StoredEntry } from '../journal/entries.js';
import type { Projection } from '../journal/groupCommit.js';
import { statesIndex } from '../indexer/templates.js';

/**
 * Read model of stateful batches: one row per batch and one per item, projected from the
 * journal; the indexer pipeline fills in each item's result (`recordStatefulResults`), which is
 * not journaled (it is the indexer's answer, not a fact of this server).
 */
export function createStatefulBatchesProjection(db: Db): Projection {
  createStatefulTables(db);
  const batch = db.prepare(
    'INSERT OR IGNORE INTO stateful_batches (batch, seq, agent, items, received_at) VALUES (?, ?, ?, ?, ?)',
  );
  const item = db.prepare(
    `INSERT OR IGNORE INTO stateful_items (batch, position, id, module, operation, index_name)
     VALUES (?, ?, ?, ?, ?, ?)`,
  );
  return {
    name: 'stateful-batches',
    project(e: StoredEntry): void {
      if (e.type !== 'StatefulEventsReceived') return;
      batch.run(e.data.batch, e.seq, e.data.agent, e.data.items.length, e.time);
      e.data.items.forEach((it, i) => item.run(e.data.batch, i, it.id, it.module, it.operation, statesIndex(it.module, it.collector)));
    },
  };
}

export function createStatefulTables(db: Db): void {
  db.exec(`CREATE TABLE IF NOT EXISTS stateful_batches (
    batch       TEXT PRIMARY KEY,
    seq         INTEGER NOT NULL,
    agent       TEXT    NOT NULL,
    items       INTEGER NOT NULL,
    received_at INTEGER NOT NULL
  );
  CREATE TABLE IF NOT EXISTS stateful_items (
    batch      TEXT    NOT NULL,
    position   INTEGER NOT NULL,
    id         TEXT    NOT NULL,
    module     TEXT    NOT NULL,
    operation  TEXT    NOT NULL,
    index_name TEXT    NOT NULL,
    result     TEXT,
    status     INTEGER,
    error      TEXT,
    updated_at INTEGER,
    PRIMARY KEY (batch, position)
  ) WITHOUT ROWID;`);
}

export interface StatefulResult {
  batch: string;
  position: number;
  result: string;
  status: number;
  error?: string;
}

/** The indexer pipeline's writer into this read model (called inside its checkpoint transaction). */
export function createStatefulResultsWriter(db: Db): (results: readonly StatefulResult[]) => void {
  createStatefulTables(db);
  const update = db.prepare(
    'UPDATE stateful_items SET result = ?, status = ?, error = ?, updated_at = ? WHERE batch = ? AND position = ?',
  );
  return (results) => {
    const now = Date.now();
    for (const r of results) update.run(r.result, r.status, r.error ?? null, now, r.batch, r.position);
  };
}
