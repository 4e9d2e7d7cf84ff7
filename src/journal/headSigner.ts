import type { Db } from './database.js';
import { createSignedHeads, type SignedHeadRow } from './signedHeads.js';
import { signHead, type HeadKey } from '../security/headKey.js';

export interface HeadSignerOptions {
  db: Db;
  key: HeadKey;
  node: string;
  /** Sign once this many entries were committed since the last signed head. */
  everyEntries: number;
  /** ... and at least this often while the head moves (ms). */
  everyMs: number;
  now?: () => number;
  /** Told each new signed head (the indexer anchor, logs). */
  onSigned?: (head: SignedHeadRow) => void;
}

/**
 * Signs the journal head at least every N entries and every T ms (only when it moved), and
 * when asked (start, clean stop). Each signature is its own small write transaction, outside the
 * group commit; the head is read inside it, so a CLI appending at the same time cannot race it.
 */
export function createHeadSigner(opts: HeadSignerOptions) {
  const heads = createSignedHeads(opts.db);
  const now = opts.now ?? Date.now;
  let sinceLast = 0;
  let timer: NodeJS.Timeout | null = null;

  const signTx = opts.db.transaction((): SignedHeadRow | null => {
    const last = heads.latest();
    const tip = heads.tip();
    if (tip.seq === 0 || (last && last.seq >= tip.seq)) return null;
    const fields = { node: opts.node, n: (last?.n ?? 0) + 1, seq: tip.seq, hash: tip.hash.toString('hex'), time: now() };
    const row: SignedHeadRow = { ...fields, hash: tip.hash, key_id: opts.key.keyId, signature: signHead(opts.key, fields) };
    heads.insert(row);
    return row;
  });

  /** Signs the current head unless it is already signed; returns the new head, if any. */
  function signNow(): SignedHeadRow | null {
    sinceLast = 0;
    const row = signTx.immediate();
    if (row) opts.onSigned?.(row);
    return row;
  }

  return {
    signNow,
    /** Counts committed entries; signs when N were reached. */
    committed(entries: number): void {
      sinceLast += entries;
      if (sinceLast >= opts.everyEntries) signNow();
    },
    start(): void {
      timer ??= setInterval(() => {
        try {
          signNow();
        } catch {
          // the database is busy or closing: the next tick (or the stop) signs
        }
      }, opts.everyMs);
      timer.unref();
    },
    stop(): void {
      if (timer) clearInterval(timer);
      timer = null;
    },
  };
}
export type HeadSigner = ReturnType<typeof createHeadSigner>;
