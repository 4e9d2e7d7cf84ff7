import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { generateKeyPairSync } from 'node:crypto';
import { headPayload, keyIdOf, loadHeadKey } from '../../src/security/headKey.js';
import { checkReceipt } from '../../src/evidence/receipt.js';
import { verifyJournal } from '../../src/evidence/verifyJournal.js';
import { showHead } from '../../src/journal/signedHeads.js';
import { NODE, rewriteFrom, signedFolder, type Folder } from './fixtures.js';
import { sign } from 'node:crypto';

const verify = (f: Folder) => verifyJournal(f.db, { key: f.key, node: NODE });

const heads = suite<{ f: Folder }>('journal verify against signed heads');
heads.before.each(async (ctx) => {
  ctx.f = await signedFolder(600, 100);
});
heads.after.each((ctx) => ctx.f.close());

heads('an untouched journal verifies and shows its newest signed head', ({ f }) => {
  const v = verify(f);
  assert.is(v.ok, true);
  assert.is(v.checked, 600);
  assert.is(v.signed_heads, 6);
  assert.is(v.signed_head!.seq, 600);
  assert.is(v.signed_head!.key_id, f.key.keyId);
  assert.match(v.signed_head!.signature, /^[A-Za-z0-9+/]+=*$/);
  assert.is(v.unsigned_entries, 0);
});

heads('a removed tail is found: the newest signed head names a seq the journal no longer has', ({ f }) => {
  f.db.prepare('DELETE FROM journal WHERE seq > 595').run();
  const v = verify(f);
  assert.is(v.ok, false);
  assert.is(v.first_untrusted_seq, 501);
  assert.is(v.first_bad_seq, 501);
  assert.match(v.reason!, /ends at seq 595 but signed head 6 signed seq 600/);
});

heads('a range rewritten with recomputed hashes is found at the signed head before it', ({ f }) => {
  rewriteFrom(f.db, 289);
  const v = verify(f);
  assert.is(v.ok, false);
  assert.is(v.first_untrusted_seq, 201);
  assert.match(v.reason!, /signed head 3 signed seq 300 with another hash/);
});

heads('a removed signed head leaves a gap in their numbers', ({ f }) => {
  f.db.prepare('DELETE FROM signed_heads WHERE n = 4').run();
  const v = verify(f);
  assert.is(v.ok, false);
  assert.is(v.first_untrusted_seq, 301);
  assert.match(v.reason!, /signed head 4 is missing/);
});

heads('removing every signed head is found', ({ f }) => {
  f.db.prepare('DELETE FROM signed_heads').run();
  const v = verify(f);
  assert.is(v.ok, false);
  assert.is(v.first_untrusted_seq, 1);
});

heads('a head signed by another key is refused', ({ f }) => {
  const other = generateKeyPairSync('ed25519');
  const row = f.db.prepare('SELECT * FROM signed_heads WHERE n = 5').get() as { n: number; seq: number; hash: Buffer; time: number };
  const fields = { node: NODE, n: row.n, seq: row.seq, hash: row.hash.toString('hex'), time: row.time };
  f.db.prepare('UPDATE signed_heads SET key_id = ?, signature = ? WHERE n = 5').run(keyIdOf(other.publicKey), sign(null, headPayload(fields), other.privateKey));
  const v = verify(f);
  assert.is(v.ok, false);
  assert.is(v.first_untrusted_seq, 401);
  assert.match(v.reason!, /signed by another key/);
});

heads("another node's database (its own key) does not verify with this node's key", async ({ f }) => {
  const other = await signedFolder(600, 100);
  try {
    const v = verifyJournal(other.db, { key: f.key, node: NODE });
    assert.is(v.ok, false);
    assert.is(v.first_untrusted_seq, 1);
    assert.match(v.reason!, /another key/);
  } finally {
    other.close();
  }
});

heads('a forged signature is refused', ({ f }) => {
  f.db.prepare("UPDATE signed_heads SET seq = 250 WHERE n = 3").run();
  const v = verify(f);
  assert.is(v.ok, false);
  assert.is(v.first_untrusted_seq, 201);
  assert.match(v.reason!, /signature does not verify/);
});

heads('a changed entry (hash not recomputed) is found at its seq', ({ f }) => {
  f.db.prepare("UPDATE journal SET actor = 'agent:mallory' WHERE seq = 333").run();
  const v = verify(f);
  assert.is(v.ok, false);
  assert.is(v.first_untrusted_seq, 333);
});

const receipts = suite<{ f: Folder }>('receipts');
receipts.before.each(async (ctx) => {
  ctx.f = await signedFolder(600, 100);
});
receipts.after.each((ctx) => ctx.f.close());

receipts('a receipt proves the journal still holds its entry', ({ f }) => {
  const receipt = verify(f).signed_head!;
  assert.equal(checkReceipt(f.db, receipt, f.key).ok, true);
});

receipts('a receipt taken before an edit fails after it, naming why', ({ f }) => {
  const receipt = verify(f).signed_head!;
  rewriteFrom(f.db, 289);
  // even after the signed heads were removed and the rewritten head re-signed with the node's key
  const r = checkReceipt(f.db, receipt, f.key);
  assert.is(r.ok, false);
  if (!r.ok) assert.match(r.reason, /entry 600 has another chain hash now/);
});

receipts('a receipt of a removed tail fails', ({ f }) => {
  const receipt = verify(f).signed_head!;
  f.db.prepare('DELETE FROM journal WHERE seq > 590').run();
  f.db.prepare('DELETE FROM signed_heads WHERE n = 6').run();
  assert.is(verify(f).ok, true, 'the local heads alone cannot see a tail removed with its heads...');
  const r = checkReceipt(f.db, receipt, f.key);
  assert.is(r.ok, false, '... the receipt does');
  if (!r.ok) assert.match(r.reason, /ends at seq 590/);
});

receipts('a receipt signed by another key, or with a changed signature, fails', ({ f }) => {
  const receipt = verify(f).signed_head!;
  const other = loadHeadKey(`${f.dataDir}/other`, undefined, true)!;
  assert.is(checkReceipt(f.db, receipt, other).ok, false);
  assert.is(checkReceipt(f.db, { ...receipt, time: new Date(0).toISOString() }, f.key).ok, false);
});

const pruned = suite('a pruned journal');

pruned('verifies, and receipts taken before the prune still hold', async () => {
  const f = await signedFolder(600, 100, { beforeSeq: 301 });
  try {
    const v = verify(f);
    assert.is(v.ok, true, v.reason);
    assert.is(v.checked, 301); // 300 kept + JournalPruned
    // the receipts an auditor got from verify at seq 200 (now pruned) and at seq 600 (kept)
    const old = f.db.prepare('SELECT * FROM signed_heads WHERE n = 2').get() as Parameters<typeof showHead>[0];
    const pruned = checkReceipt(f.db, showHead(old), f.key);
    assert.is(pruned.ok, true);
    if (pruned.ok) assert.match(pruned.detail, /entry 200 was pruned/);
    const latest = f.db.prepare('SELECT * FROM signed_heads WHERE n = 6').get() as Parameters<typeof showHead>[0];
    assert.is(checkReceipt(f.db, showHead(latest), f.key).ok, true);
    assert.is(checkReceipt(f.db, { ...showHead(old), hash: 'ab'.repeat(32) }, f.key).ok, false);
  } finally {
    f.close();
  }
});

pruned('a prefix removed beyond the last prune is found', async () => {
  const f = await signedFolder(600, 100, { beforeSeq: 101 });
  try {
    const hash = f.db.prepare('SELECT hash FROM journal WHERE seq = 200').pluck().get() as Buffer;
    f.db.prepare('DELETE FROM journal WHERE seq <= 200').run();
    f.db.prepare('UPDATE chain_anchor SET after_seq = 200, hash = ?').run(hash);
    const v = verify(f);
    assert.is(v.ok, false);
    assert.is(v.first_untrusted_seq, 101);
    assert.match(v.reason!, /not where the last prune left it/);
  } finally {
    f.close();
  }
});

heads.run();
receipts.run();
pruned.run();
