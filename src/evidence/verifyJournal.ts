import type { Db } from '../journal/database.js';
import type { JournalRow } from '../journal/readEntries.js';
import { createSignedHeads, showHead, type SignedHead, type SignedHeadRow } from '../journal/signedHeads.js';
import { verifyChain } from '../journal/verifyChain.js';
import { headSignatureValid, type HeadKey } from '../security/headKey.js';

/** A head known from outside the database (the heads index): checked like a local one, but not numbered here. */
export interface ExternalHead {
  source: string;
  head: SignedHead;
}

export interface JournalVerdict {
  ok: boolean;
  checked: number;
  head_seq: number;
  /** The newest signed head that verified: a receipt an auditor can keep. */
  signed_head: SignedHead | null;
  signed_heads: number;
  /** Entries after the newest signed head (signed at the next N entries, T seconds or clean stop). */
  unsigned_entries: number;
  first_untrusted_seq?: number;
  /** Same as first_untrusted_seq (the name of the chain-only check, kept for compatibility). */
  first_bad_seq?: number;
  reason?: string;
  problems?: string[];
}

interface Problem {
  seq: number;
  reason: string;
}

function headFault(h: SignedHeadRow, prev: SignedHeadRow | undefined, key: HeadKey, node: string | null): string | null {
  if (h.n !== (prev?.n ?? 0) + 1) return prev ? `signed head ${prev.n + 1} is missing (next is ${h.n})` : `signed heads 1..${h.n - 1} are missing`;
  if (h.key_id !== key.keyId) return `signed head ${h.n} was signed by another key (${h.key_id}, trusted ${key.keyId})`;
  if (node !== null && h.node !== node) return `signed head ${h.n} names node ${h.node}, not this node (${node})`;
  const fields = { node: h.node, n: h.n, seq: h.seq, hash: h.hash.toString('hex'), time: h.time };
  if (!headSignatureValid(key.publicKey, fields, h.signature)) return `signed head ${h.n}: the signature does not verify`;
  if (prev && h.seq < prev.seq) return `signed head ${h.n} goes back to seq ${h.seq} (head ${prev.n} was at ${prev.seq})`;
  return null;
}

function externalFault(e: ExternalHead, key: HeadKey): string | null {
  const h = e.head;
  if (h.key_id !== key.keyId) {
    return `${e.source}: head ${h.n} of node ${h.node} was signed by key ${h.key_id}, this data folder's key is ${key.keyId} (data folder replaced?)`;
  }
  const fields = { node: h.node, n: h.n, seq: h.seq, hash: h.hash, time: Date.parse(h.time) };
  if (!headSignatureValid(key.publicKey, fields, Buffer.from(h.signature, 'base64'))) return `${e.source}: head ${h.n}: the signature does not verify`;
  return null;
}

interface Checkpoint {
  hash: string;
  label: string;
}

/**
 * Checks the hash chain against every signed head (and any external ones): a changed entry, a
 * rewritten-and-recomputed range, a removed tail, a removed or foreign signed head, or a moved
 * prune anchor each give `ok: false` and the first seq that cannot be trusted.
 */
export function verifyJournal(
  db: Db,
  opts: { key: HeadKey; node: string | null; external?: ExternalHead[]; onProgress?: (checked: number) => void },
): JournalVerdict {
  const problems: Problem[] = [];
  const anchor = db.prepare('SELECT after_seq, hash FROM chain_anchor WHERE id = 1').get() as { after_seq: number; hash: Buffer } | undefined;
  const anchorSeq = anchor?.after_seq ?? 0;
  const valid: SignedHeadRow[] = [];
  for (const h of createSignedHeads(db).all()) {
    const fault = headFault(h, valid.at(-1), opts.key, opts.node);
    if (fault) {
      problems.push({ seq: (valid.at(-1)?.seq ?? anchorSeq) + 1, reason: fault });
      break;
    }
    valid.push(h);
  }
  const checkpoints = new Map<number, Checkpoint[]>();
  const expect = (seq: number, c: Checkpoint) => checkpoints.set(seq, [...(checkpoints.get(seq) ?? []), c]);
  for (const h of valid) expect(h.seq, { hash: h.hash.toString('hex'), label: `signed head ${h.n}` });
  for (const e of opts.external ?? []) {
    const fault = externalFault(e, opts.key);
    if (fault) problems.push({ seq: anchorSeq + 1, reason: fault });
    else expect(e.head.seq, { hash: e.head.hash, label: `${e.source} head ${e.head.n}` });
  }

  let confirmed = anchorSeq;
  let firstRow: number | null = null;
  let lastRow = anchorSeq;
  let pruned: { throughSeq: number; anchorHash: string } | null = null;
  const check = (seq: number, hash: string) => {
    for (const c of checkpoints.get(seq) ?? []) {
      if (c.hash === hash) confirmed = Math.max(confirmed, seq);
      else problems.push({ seq: confirmed + 1, reason: `${c.label} signed seq ${seq} with another hash: entries up to ${seq} were rewritten` });
    }
  };
  if (anchor) check(anchorSeq, anchor.hash.toString('hex'));
  const chain = verifyChain(db, opts.onProgress, (row: JournalRow) => {
    firstRow ??= row.seq;
    lastRow = row.seq;
    if (row.type === 'JournalPruned') pruned = JSON.parse(row.data) as { throughSeq: number; anchorHash: string };
    check(row.seq, row.hash.toString('hex'));
  });
  if (!chain.ok) {
    problems.push({ seq: chain.first_bad_seq, reason: `entry ${chain.first_bad_seq} does not match the hash chain (changed, removed or reordered)` });
  }
  for (const [seq, cs] of checkpoints) {
    if (seq <= lastRow || !chain.ok) continue;
    problems.push({ seq: confirmed + 1, reason: `the journal ends at seq ${lastRow} but ${cs[0]!.label} signed seq ${seq}: entries were removed` });
  }
  if (anchor) {
    const p = pruned as { throughSeq: number; anchorHash: string } | null;
    if (!p) problems.push({ seq: anchorSeq + 1, reason: `the chain starts after seq ${anchorSeq} but no JournalPruned entry records that prune` });
    else if (p.throughSeq !== anchorSeq || p.anchorHash !== anchor.hash.toString('hex')) {
      problems.push({ seq: Math.min(p.throughSeq, anchorSeq) + 1, reason: `the chain anchor (seq ${anchorSeq}) is not where the last prune left it (seq ${p.throughSeq})` });
    }
  }
  if (valid.length === 0 && firstRow !== null && problems.length === 0) {
    problems.push({ seq: firstRow, reason: 'the journal has no signed head: never signed, or its signed heads were removed' });
  }
  const latest = valid.at(-1);
  lastRow = (db.prepare('SELECT max(seq) FROM journal').pluck().get() as number | null) ?? anchorSeq;
  const verdict: JournalVerdict = {
    ok: problems.length === 0,
    checked: chain.checked,
    head_seq: lastRow,
    signed_head: latest ? showHead(latest) : null,
    signed_heads: valid.length,
    unsigned_entries: Math.max(0, lastRow - (latest?.seq ?? anchorSeq)),
  };
  if (problems.length === 0) return verdict;
  problems.sort((a, b) => a.seq - b.seq);
  const first = problems[0]!;
  return {
    ...verdict,
    first_untrusted_seq: first.seq,
    first_bad_seq: first.seq,
    reason: first.reason,
    problems: [...new Set(problems.map((p) => p.reason))].slice(0, 20),
  };
}
