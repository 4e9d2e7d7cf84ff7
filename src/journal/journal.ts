import { join } from 'node:path';
import { createAppender } from './appendToJournal.js';
import { createCheckpoints } from './checkpoints.js';
import { createDeadLetterStore } from './deadLetters.js';
import { createJournalStats } from './journalStats.js';
import { openDatabase, type Db } from './database.js';
import type { StoredEntry } from './entries.js';
import { createGroupCommit, type GroupCommitOptions, type Projection } from './groupCommit.js';
import { createJournalReader } from './readEntries.js';
import { createHeadSigner, type HeadSignerOptions } from './headSigner.js';
import { createLargeBodyReader } from './largeBodies.js';

export interface JournalOptions {
  dataDir: string;
  quotaBytes: number;
  /** The read models, built on the opened database by the composition root (the journal knows none of them). */
  projections: (db: Db) => Projection[];
  onFlushed?: GroupCommitOptions['onFlushed'];
  admit?: GroupCommitOptions['admit'];
  /** Signs the journal head (every N entries, every T ms once started, and at close). */
  heads?: Omit<HeadSignerOptions, 'db'>;
}

/** The journal as the rest of the server sees it: one database, one group commit, readers. */
export function openJournal(opts: JournalOptions) {
  const file = join(opts.dataDir, 'comms.db');
  const db: Db = openDatabase(file);
  const projections = opts.projections(db);
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
    ...(opts.admit ? { admit: opts.admit } : {}),
  });
  const heads = opts.heads ? createHeadSigner({ ...opts.heads, db }) : null;
  const largeBodies = createLargeBodyReader(file);
  if (heads) listeners.add((entries) => heads.committed(entries.length));
  return {
    file,
    /** The head signer; null when the journal was opened without a head key. */
    heads,
    db,
    /** Writes are refused (503) once the journal's pages in use reach this size (`size_bytes` of the stats). */
    quotaBytes: opts.quotaBytes,
    commit,
    reader: createJournalReader(db),
    /** Large bodies read in a worker thread (the pipelines' pages), started on first use. */
    largeBodies,
    checkpoints: createCheckpoints(db),
    deadLetters: createDeadLetterStore(db),
    stats: createJournalStats(db, file),
    /** Subscribes to committed entries (in-process); returns the unsubscribe function. */
    onCommitted(listener: (entries: StoredEntry[]) => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close(): Promise<void> {
      await commit.close();
      heads?.stop();
      try {
        heads?.signNow();
      } catch {
        // busy past the timeout: the head is signed at the next start (which signs what it finds)
      }
      await largeBodies.close();
      db.close();
    },
  };
}
export type Journal = ReturnType<typeof openJournal>;
