import type { Db } from './database.js';
import { GENESIS } from './hashChain.js';

/**
 * Signed journal heads: `(node, n, seq, hash, time)` signed with the head key (never stored
 * here). `n` numbers them 1, 2, 3… so a removed one leaves a gap. Created idempotently (not a
 * numbered migration): a data folder from before signed heads gains the table when opened.
 */
const DDL = `CREATE TABLE IF NOT EXISTS signed_heads (
  n         INTEGER PRIMARY KEY,
  node      TEXT    NOT NULL,
  seq       INTEGER NOT NULL,
  hash      BLOB    NOT NULL,
  time      INTEGER NOT NULL,
  key_id    TEXT    NOT NULL,
  signature BLOB    NOT NULL
)`;

export interface SignedHeadRow {
  n: number;
  node: string;
  seq: number;
  hash: Buffer;
  time: number;
  key_id: string;
  signature: Buffer;
}

/** A signed head as it is shown (verify's `signed_head`, receipts, the heads index). */
export interface SignedHead {
  n: number;
  node: string;
  seq: number;
  hash: string;
  time: string;
  key_id: string;
  signature: string;
}

export function showHead(r: SignedHeadRow): SignedHead {
  return {
    n: r.n,
    node: r.node,
    seq: r.seq,
    hash: r.hash.toString('hex'),
    time: new Date(r.time).toISOString(),
    key_id: r.key_id,
    signature: r.signature.toString('base64'),
  };
}

export function createSignedHeads(db: Db) {
  db.exec(DDL);
  const latest = db.prepare<[], SignedHeadRow>('SELECT * FROM signed_heads ORDER BY n DESC LIMIT 1');
  const all = db.prepare<[], SignedHeadRow>('SELECT * FROM signed_heads ORDER BY n');
  const after = db.prepare<[number, number], SignedHeadRow>('SELECT * FROM signed_heads WHERE n > ? ORDER BY n LIMIT ?');
  const insert = db.prepare('INSERT INTO signed_heads (n, node, seq, hash, time, key_id, signature) VALUES (?, ?, ?, ?, ?, ?, ?)');
  const tip = db.prepare<[], { seq: number; hash: Buffer }>('SELECT seq, hash FROM journal ORDER BY seq DESC LIMIT 1');
  const anchor = db.prepare<[], { seq: number; hash: Buffer }>('SELECT after_seq AS seq, hash FROM chain_anchor WHERE id = 1');
  return {
    latest: (): SignedHeadRow | undefined => latest.get(),
    all: (): IterableIterator<SignedHeadRow> => all.iterate(),
    after: (n: number, limit: number): SignedHeadRow[] => after.all(n, limit),
    /** The chain's tip: the newest row, else the prune anchor, else the genesis (seq 0). */
    tip: (): { seq: number; hash: Buffer } => tip.get() ?? anchor.get() ?? { seq: 0, hash: GENESIS },
    insert(r: SignedHeadRow): void {
      insert.run(r.n, r.node, r.seq, r.hash, r.time, r.key_id, r.signature);
    },
  };
}
export type SignedHeads = ReturnType<typeof createSignedHeads>;
