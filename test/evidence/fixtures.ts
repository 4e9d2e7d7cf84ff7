import { rmSync } from 'node:fs';
import { pruneJournal } from '../../src/commands/pruneJournal.js';
import { loadHeadKey, type HeadKey } from '../../src/security/headKey.js';
import { openDatabase, type Db } from '../../src/journal/database.js';
import { chainHash } from '../../src/journal/hashChain.js';
import { openJournal } from '../../src/journal/journal.js';
import { createProjections } from '../../src/projections/index.js';
import type { JournalRow } from '../../src/journal/readEntries.js';
import { tempDir } from '../support/server.js';

export const NODE = 'node-a';

export interface Folder {
  dataDir: string;
  key: HeadKey;
  /** The database, opened as someone who can write it. */
  db: Db;
  close(): void;
}

/** A data folder with `entries` journal entries, signed every `every` entries and at close. */
export async function signedFolder(entries = 600, every = 100, prune?: { beforeSeq: number }): Promise<Folder> {
  const dataDir = tempDir('comms-api-evidence-');
  const key = loadHeadKey(dataDir, undefined, true)!;
  const journal = openJournal({ projections: createProjections, dataDir, quotaBytes: 1 << 30, heads: { key, node: NODE, everyEntries: every, everyMs: 3_600_000 } });
  // one commit per `every` entries (a signed head after each), fast on a loaded machine
  for (let i = 0; i < entries; i += every) {
    await journal.commit.run((tx) => {
      for (let j = i; j < Math.min(entries, i + every); j++) {
        tx.append({ type: 'StatelessEventsReceived', stream: 'a', actor: 'agent:a', data: { agent: 'a', events: 1 }, body: Buffer.from(`{"i":${j}}`) });
      }
    });
  }
  if (prune) {
    journal.db.prepare("INSERT INTO checkpoints (name, seq, updated_at) VALUES ('sink:engine', ?, 0)").run(entries);
    await pruneJournal({ db: journal.db, commit: journal.commit, sinks: ['engine'] })(prune, 'test');
  }
  await journal.close();
  const db = openDatabase(`${dataDir}/comms.db`);
  return {
    dataDir,
    key,
    db,
    close() {
      db.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** What someone who can write the database and knows the formula does: change entry `seq`, recompute every later hash. */
export function rewriteFrom(db: Db, seq: number): void {
  const rows = db.prepare('SELECT * FROM journal WHERE seq >= ? ORDER BY seq').all(seq) as JournalRow[];
  let prev = (db.prepare('SELECT hash FROM journal WHERE seq = ?').pluck().get(seq - 1) as Buffer | undefined) ?? Buffer.alloc(32);
  const update = db.prepare('UPDATE journal SET data = ?, hash = ? WHERE seq = ?');
  for (const row of rows) {
    const data = row.seq === seq ? JSON.stringify({ agent: 'a', events: 99 }) : row.data;
    const hash = chainHash(prev, { ...row, data });
    update.run(data, hash, row.seq);
    prev = hash;
  }
}
