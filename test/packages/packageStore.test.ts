import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createPackageStore, PackageName, type PackageStore } from '../../src/packages/packageStore.js';
import { tempDir } from '../support/server.js';

async function* chunks(...parts: string[]): AsyncIterable<Buffer> {
  for (const p of parts) yield Buffer.from(p);
}
async function* failing(): AsyncIterable<Buffer> {
  yield Buffer.from('partial');
  throw new Error('the client went away');
}
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

const Store = suite<{ dir: string; store: PackageStore }>('the package store');
Store.before.each((ctx) => {
  ctx.dir = tempDir('packages-');
  ctx.store = createPackageStore(ctx.dir);
});
Store.after.each((ctx) => rmSync(ctx.dir, { recursive: true, force: true }));

Store('an upload is hashed while streamed and lands at blobs/<sha256>', async ({ dir, store }) => {
  const r = await store.receive(chunks('hello ', 'world'), 100);
  assert.ok(r.ok);
  if (!r.ok) return;
  assert.is(r.size, 11);
  assert.is(r.sha256, sha('hello world'));
  assert.is(readFileSync(join(dir, 'blobs', r.sha256), 'utf8'), 'hello world');
  assert.equal(readdirSync(join(dir, 'tmp')), []);
});

Store('passing the limit stops the upload and leaves nothing behind', async ({ dir, store }) => {
  const r = await store.receive(chunks('12345', '67890', 'x'), 10);
  assert.equal(r, { ok: false, reason: 'too_large', limit: 10 });
  assert.equal(readdirSync(join(dir, 'blobs')), []);
  assert.equal(readdirSync(join(dir, 'tmp')), []);
});

Store('a failing source leaves no temp file and rethrows', async ({ dir, store }) => {
  try {
    await store.receive(failing(), 100);
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /went away/);
  }
  assert.equal(readdirSync(join(dir, 'tmp')), []);
  assert.equal(readdirSync(join(dir, 'blobs')), []);
});

Store('collect keeps content still referenced or still in flight, removes the rest', async ({ store }) => {
  const a = await store.receive(chunks('a'), 10);
  const b = await store.receive(chunks('b'), 10);
  if (!a.ok || !b.ok) return assert.unreachable();
  await store.collect(a.sha256, () => false); // in flight: not released yet
  assert.ok(store.blobSize(a.sha256) === 1);
  a.release();
  await store.collect(a.sha256, () => true); // referenced
  assert.ok(store.blobSize(a.sha256) === 1);
  await store.collect(a.sha256, () => false);
  assert.is(store.blobSize(a.sha256), undefined);
  b.release();
  assert.equal(store.blobNames(), [b.sha256]);
});

Store('leftover temp files of a crash are cleared when the store opens', ({ dir }) => {
  writeFileSync(join(dir, 'tmp', 'stale'), 'x');
  createPackageStore(dir);
  assert.equal(readdirSync(join(dir, 'tmp')), []);
});

Store('blob paths accept only sha256 hex', ({ store }) => {
  assert.throws(() => store.blobPath('../../etc/passwd'));
  assert.throws(() => store.blobPath('A'.repeat(64)));
});

const Names = suite('package names');
Names('letters, digits, dot, dash, underscore; no traversal, no separators', () => {
  for (const ok of ['agent-4.8.0.tar.gz', 'a', 'A_b-c.1', 'x'.repeat(128)]) assert.ok(PackageName.safeParse(ok).success, ok);
  for (const bad of ['', '..', '.x', '-x', 'a..b', 'a/b', 'a\\b', '../x', 'a\u0000b', 'x'.repeat(129), 'é']) {
    assert.not.ok(PackageName.safeParse(bad).success, bad);
  }
});

Store.run();
Names.run();
