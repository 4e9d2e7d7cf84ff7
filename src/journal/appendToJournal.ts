import type { Db } from './database.js';
import type { Entry, StoredEntry } from './entries.js';
import { chainHash, GENESIS } from './hashChain.js';

/**
 * Appends entries inside the caller's (write) transaction. The tip of the chain is read from
 * the database, not cached, so several processes (server, CLI) can append to one journal.
 */
export function createAppender(db: Db) {
  const tip = db.prepare<[], { seq: number; hash: Buffer }>(
    'SELECT seq, hash FROM journal ORDER BY seq DESC LIMIT 1',
  );
  const anchor = db.prepare<[], { after_seq: number; hash: Buffer }>(
    'SELECT after_seq, hash FROM chain_anchor WHERE id = 1',
  );
  const lastSeq = db.prepare<[], { seq: number }>("SELECT seq FROM sqlite_sequence WHERE name = 'journal'");
  const insert = db.prepare(
    'INSERT INTO journal (seq, type, stream, time, actor, data, body, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  );

  let cached: { seq: number; hash: Buffer } | null = null;

  return {
    /** Call at the start of each write transaction: reloads the chain tip. */
    begin(): void {
      const t = tip.get();
      if (t) cached = { seq: Math.max(t.seq, lastSeq.get()?.seq ?? 0), hash: t.hash };
      else {
        const a = anchor.get();
        cached = { seq: Math.max(a?.after_seq ?? 0, lastSeq.get()?.seq ?? 0), hash: a?.hash ?? GENESIS };
      }
    },
    append(entry: Entry, time: number): StoredEntry {
      if (!cached) throw new Error('appender used outside a transaction');
      const seq = cached.seq + 1;
      const data = JSON.stringify(entry.data);
      const body = entry.body ?? null;
      const hash = chainHash(cached.hash, { seq, type: entry.type, stream: entry.stream, time, actor: entry.actor, data, body });
      insert.run(seq, entry.type, entry.stream, time, entry.actor, data, body, hash);
      cached = { seq, hash };
      return { ...entry, seq, time } as StoredEntry;
    },
    /** A position to go back to when a savepoint is rolled back. */
    mark(): { seq: number; hash: Buffer } | null {
      return cached;
    },
    restore(mark: { seq: number; hash: Buffer } | null): void {
      cached = mark;
    },
    /** Call when a write transaction rolled back. */
    reset(): void {
      cached = null;
    },
  };
}
export type Appender = ReturnType<typeof createAppender>;
