import { join } from 'node:path';
import { createProjections } from '../projections/index.js';
import { createAppender } from './appendToJournal.js';
import { createCheckpoints } from './checkpoints.js';
import { openDatabase, type Db } from './database.js';
import type { StoredEntry } from './entries.js';
import { createGroupCommit, type GroupCommitOptions } from './groupCommit.js';
import { createJournalReader } from './readEntries.js';

export interface JournalOptions {
  dataDir: string;
  quotaBytes: number;
  onFlushed?: GroupCommitOptions['onFlushed'];
}

/** The journal as the rest of the server sees it: one database, one group commit, readers. */
export function openJournal(opts: JournalOptions) {
  const file = join(opts.dataDir, 'comms.db');
  const db: Db = openDatabase(file);
  const projections = createProjections(db);
  const listeners = new Set<(entries: StoredEntry[]) => void>();
  const commit = createGroupCommit({
    db,
    appender: createAppender(db),
    projections,
    quotaBytes: opts.quotaBytes,
    onCommitted: (entries) => {
      for (const l of listeners) l(entries);
    },
    ...(opts.onFlushed ? { onFlushed: opts.onFlushed } : {}),
  });
  return {
    file,
    db,
    /** Writes are refused (503) once the journal's pages in use reach this size (`size_bytes` of the stats). */
    quotaBytes: opts.quotaBytes,
    commit,
    reader: createJournalReader(db),
    checkpoints: createCheckpoints(db),
    /** Subscribes to committed entries (in-process); returns the unsubscribe function. */
    onCommitted(listener: (entries: StoredEntry[]) => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close(): Promise<void> {
      await commit.close();
      db.close();
    },
  };
}
export type Journal = ReturnType<typeof openJournal>;
