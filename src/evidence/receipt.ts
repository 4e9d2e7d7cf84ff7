import { z } from 'zod';
import type { Db } from '../journal/database.js';
import { createSignedHeads } from '../journal/signedHeads.js';
import { headSignatureValid, type HeadKey } from '../security/headKey.js';

/** A receipt: a signed head as `journal verify` printed it (the whole answer or its `signed_head`). */
export const Receipt = z
  .object({
    seq: z.number().int().min(1),
    hash: z.string().regex(/^[0-9a-f]{64}$/, 'a sha256 in hex'),
    n: z.number().int().min(1).optional(),
    node: z.string().max(200).optional(),
    time: z.iso.datetime({ offset: true }).optional(),
    key_id: z.string().max(200).optional(),
    signature: z.string().max(400).optional(),
  })
  .loose();
export interface ReceiptFields {
  seq: number;
  hash: string;
  n?: number | undefined;
  node?: string | undefined;
  time?: string | undefined;
  key_id?: string | undefined;
  signature?: string | undefined;
}

/** Accepts `{signed_head: {...}}` (verify's whole output) or the head itself. */
export const ReceiptInput = z.union([z.object({ signed_head: Receipt }).loose().transform((r) => r.signed_head), Receipt]);

export type ReceiptCheck = { ok: true; seq: number; detail: string } | { ok: false; seq: number; reason: string; first_untrusted_seq: number };

/** Proves the journal still holds entry `seq` with chain hash `hash` (or pruned it after a signed head covered it). */
export function checkReceipt(db: Db, r: ReceiptFields, key: HeadKey): ReceiptCheck {
  const anchor = db.prepare('SELECT after_seq, hash FROM chain_anchor WHERE id = 1').get() as { after_seq: number; hash: Buffer } | undefined;
  const anchorSeq = anchor?.after_seq ?? 0;
  const fail = (reason: string, from = anchorSeq + 1): ReceiptCheck => ({ ok: false, seq: r.seq, reason, first_untrusted_seq: Math.min(from, r.seq) });
  if (r.signature !== undefined) {
    if (r.key_id !== undefined && r.key_id !== key.keyId) return fail(`the receipt was signed by key ${r.key_id}; this journal's key is ${key.keyId}`);
    if (r.n === undefined || r.node === undefined || r.time === undefined) return fail('the receipt has a signature but not n, node and time');
    const fields = { node: r.node, n: r.n, seq: r.seq, hash: r.hash, time: Date.parse(r.time) };
    if (!headSignatureValid(key.publicKey, fields, Buffer.from(r.signature, 'base64'))) return fail('the receipt signature does not verify with this journal\'s key');
  }
  const head = (db.prepare('SELECT max(seq) FROM journal').pluck().get() as number | null) ?? anchorSeq;
  if (r.seq > head) return fail(`the journal ends at seq ${head}: entry ${r.seq} of the receipt is gone`, head + 1);
  if (r.seq < anchorSeq) {
    const kept = [...createSignedHeads(db).all()].find((h) => h.seq === r.seq && h.hash.toString('hex') === r.hash);
    return kept
      ? { ok: true, seq: r.seq, detail: `entry ${r.seq} was pruned (the chain starts after ${anchorSeq}); signed head ${kept.n} that covered it is kept` }
      : fail(`entry ${r.seq} was pruned and no kept signed head matches the receipt`);
  }
  const stored =
    r.seq === anchorSeq
      ? anchor!.hash
      : (db.prepare('SELECT hash FROM journal WHERE seq = ?').pluck().get(r.seq) as Buffer | undefined);
  if (!stored) return fail(`entry ${r.seq} is missing from the journal`);
  if (stored.toString('hex') !== r.hash) return fail(`entry ${r.seq} has another chain hash now (${stored.toString('hex')}): the journal was rewritten at or before it`);
  return { ok: true, seq: r.seq, detail: `the journal still holds entry ${r.seq} with hash ${r.hash}` };
}

/** A verify answer with a receipt's outcome folded in: `ok` only when both hold. */
export function withReceipt<V extends { ok: boolean; first_untrusted_seq?: number; reason?: string }>(verdict: V, r: ReceiptCheck) {
  const receipt = r.ok ? { ok: true, seq: r.seq, detail: r.detail } : { ok: false, seq: r.seq, reason: r.reason };
  if (r.ok) return { ...verdict, receipt };
  const untrusted = Math.min(verdict.first_untrusted_seq ?? Number.MAX_SAFE_INTEGER, r.first_untrusted_seq);
  return { ...verdict, ok: false, first_untrusted_seq: untrusted, first_bad_seq: untrusted, reason: verdict.reason ?? r.reason, receipt };
}
