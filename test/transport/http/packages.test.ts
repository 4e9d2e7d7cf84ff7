import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { call } from '../../support/client.js';
import { headSeq, journalRows, startWorld, type World } from './management.support.js';

const OCTETS = 'application/octet-stream';
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function upload(w: World, name: string, body: Buffer, token = w.operator) {
  return call('PUT', `${w.server.api}/packages/${name}`, { token, body, type: OCTETS });
}

/** GET returning the raw bytes (the test client decodes text). */
async function download(url: string, token: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}`, ...headers } });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

/** A raw request on the wire: the path is sent exactly as given (no URL normalisation). */
function rawGet(base: string, path: string, token: string): Promise<{ status: number; body: string }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path, headers: { authorization: `Bearer ${token}` } }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const Packages = suite<{ w: World; agent: string; pkg: Buffer }>('packages');
Packages.before(async (ctx) => {
  ctx.w = await startWorld({ 'agent-1': ['default'] }, { COMMS_API_MAX_PACKAGE_BYTES: String(256 * 1024) });
  ctx.agent = ctx.w.agents['agent-1']!;
  ctx.pkg = randomBytes(100_000);
});
Packages.after((ctx) => ctx.w.server.stop());

Packages('an upload answers 201 {name, size, sha256} and is journaled as PackageUploaded', async ({ w, pkg }) => {
  const r = await upload(w, 'agent-4.8.0.tar.gz', pkg);
  assert.is(r.status, 201, r.text);
  assert.equal(r.body, { name: 'agent-4.8.0.tar.gz', size: pkg.length, sha256: sha(pkg) });
  const e = journalRows(w.server).filter((x) => x.type === 'PackageUploaded');
  assert.is(e.length, 1);
  assert.equal(JSON.parse(e[0]!.data), { name: 'agent-4.8.0.tar.gz', size: pkg.length, sha256: sha(pkg) });
  assert.is(e[0]!.actor, 'user:olga');
});

Packages('an agent downloads it whole with ETag = sha256 and Accept-Ranges', async ({ w, agent, pkg }) => {
  const r = await download(`${w.server.api}/upgrade/agent-4.8.0.tar.gz`, agent);
  assert.is(r.status, 200);
  assert.is(r.headers.get('etag'), `"${sha(pkg)}"`);
  assert.is(r.headers.get('accept-ranges'), 'bytes');
  assert.is(r.headers.get('content-length'), String(pkg.length));
  assert.ok(r.bytes.equals(pkg));
});

Packages('HEAD tells the size and ETag without the bytes', async ({ w, agent, pkg }) => {
  const res = await fetch(`${w.server.api}/upgrade/agent-4.8.0.tar.gz`, { method: 'HEAD', headers: { authorization: `Bearer ${agent}` } });
  assert.is(res.status, 200);
  assert.is(res.headers.get('content-length'), String(pkg.length));
  assert.is(res.headers.get('etag'), `"${sha(pkg)}"`);
  assert.is((await res.arrayBuffer()).byteLength, 0);
});

Packages('/files?file_name= serves the same bytes', async ({ w, agent, pkg }) => {
  const r = await download(`${w.server.api}/files?file_name=agent-4.8.0.tar.gz`, agent);
  assert.is(r.status, 200);
  assert.ok(r.bytes.equals(pkg));
});

Packages('a Range gets 206 with Content-Range and exactly those bytes', async ({ w, agent, pkg }) => {
  const url = `${w.server.api}/upgrade/agent-4.8.0.tar.gz`;
  const mid = await download(url, agent, { range: 'bytes=1000-1999' });
  assert.is(mid.status, 206);
  assert.is(mid.headers.get('content-range'), `bytes 1000-1999/${pkg.length}`);
  assert.ok(mid.bytes.equals(pkg.subarray(1000, 2000)));
  const open = await download(url, agent, { range: 'bytes=99990-' });
  assert.is(open.headers.get('content-range'), `bytes 99990-99999/${pkg.length}`);
  assert.ok(open.bytes.equals(pkg.subarray(99990)));
  const suffix = await download(url, agent, { range: 'bytes=-10' });
  assert.is(suffix.status, 206);
  assert.ok(suffix.bytes.equals(pkg.subarray(pkg.length - 10)));
  const past = await download(url, agent, { range: 'bytes=99990-200000' });
  assert.is(past.headers.get('content-range'), `bytes 99990-99999/${pkg.length}`);
});

Packages('a range starting past the end is 416 problem+json with Content-Range: bytes */size', async ({ w, agent, pkg }) => {
  const r = await call('GET', `${w.server.api}/upgrade/agent-4.8.0.tar.gz`, { token: agent, headers: { range: `bytes=${pkg.length}-` } });
  assert.is(r.status, 416);
  assert.is(r.headers.get('content-type'), 'application/problem+json');
  assert.is(r.headers.get('content-range'), `bytes */${pkg.length}`);
});

Packages('If-None-Match with the sha256 ETag is 304; If-Range with another ETag sends the whole file', async ({ w, agent, pkg }) => {
  const url = `${w.server.api}/upgrade/agent-4.8.0.tar.gz`;
  const r = await download(url, agent, { 'if-none-match': `"${sha(pkg)}"` });
  assert.is(r.status, 304);
  assert.is(r.bytes.length, 0);
  const stale = await download(url, agent, { range: 'bytes=0-9', 'if-range': '"0000"' });
  assert.is(stale.status, 200);
  assert.is(stale.bytes.length, pkg.length);
  const fresh = await download(url, agent, { range: 'bytes=0-9', 'if-range': `"${sha(pkg)}"` });
  assert.is(fresh.status, 206);
});

Packages('re-uploading a name answers 200, replaces the content, and the old blob is removed', async ({ w, agent }) => {
  const v1 = randomBytes(5000);
  const v2 = randomBytes(6000);
  assert.is((await upload(w, 'replace-me.bin', v1)).status, 201);
  const r = await upload(w, 'replace-me.bin', v2);
  assert.is(r.status, 200);
  assert.is(r.body.sha256, sha(v2));
  const d = await download(`${w.server.api}/upgrade/replace-me.bin`, agent);
  assert.ok(d.bytes.equals(v2));
  const blobs = readdirSync(join(w.server.dataDir, 'packages', 'blobs'));
  assert.ok(blobs.includes(sha(v2)));
  assert.not.ok(blobs.includes(sha(v1)));
});

Packages('an upload over COMMS_API_MAX_PACKAGE_BYTES is 413, journals nothing and leaves no file', async ({ w }) => {
  const before = headSeq(w.server);
  const big = randomBytes(256 * 1024 + 1);
  const r = await upload(w, 'too-big.bin', big);
  assert.is(r.status, 413);
  assert.is(r.headers.get('content-type'), 'application/problem+json');
  assert.is(headSeq(w.server), before);
  assert.not.ok(existsSync(join(w.server.dataDir, 'packages', 'blobs', sha(big))));
  assert.equal(readdirSync(join(w.server.dataDir, 'packages', 'tmp')), []);
});

Packages('an oversize upload without Content-Length (chunked) is stopped while streaming', async ({ w }) => {
  const before = headSeq(w.server);
  const chunks = Array.from({ length: 40 }, () => randomBytes(8192)); // 320 KiB > 256 KiB
  const body = new ReadableStream({
    pull(ctl) {
      const c = chunks.shift();
      if (c) ctl.enqueue(c);
      else ctl.close();
    },
  });
  const res = await fetch(`${w.server.api}/packages/chunked.bin`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${w.operator}`, 'content-type': OCTETS },
    body,
    duplex: 'half',
  } as RequestInit).catch((err: unknown) => err as Error);
  if (res instanceof Response) assert.is(res.status, 413);
  assert.is(headSeq(w.server), before);
  assert.is((await call('GET', `${w.server.api}/packages`, { token: w.operator })).body.packages.some((p: { name: string }) => p.name === 'chunked.bin'), false);
});

Packages('bad names are 400 and traversal never reaches a file outside the store', async ({ w, agent }) => {
  const before = headSeq(w.server);
  for (const name of ['..', '.hidden', 'a..b', '%2e%2e%2fcomms.db', '..%2F..%2Fetc%2Fpasswd', 'x'.repeat(129), 'a%00b']) {
    const r = await call('PUT', `${w.server.api}/packages/${name}`, { token: w.operator, body: Buffer.from('x'), type: OCTETS });
    assert.ok(r.status === 400 || r.status === 404, `${name}: ${r.status}`);
  }
  assert.is(headSeq(w.server), before);
  for (const path of ['/api/v1/upgrade/..%2Fcomms.db', '/api/v1/upgrade/%2e%2e%2f%2e%2e%2fkeys%2fjwt-private.pem', '/api/v1/files?file_name=../comms.db', '/api/v1/files?file_name=..%2Fkeys%2Fjwt-private.pem', '/api/v1/upgrade/../../comms.db']) {
    const r = await rawGet(w.server.url, path, agent);
    assert.ok(r.status === 400 || r.status === 404, `${path}: ${r.status}`);
    assert.not.match(r.body, /PRIVATE KEY|SQLite format/);
  }
});

Packages('unknown names are 404; a wrong content type is 415; agents cannot upload', async ({ w, agent }) => {
  assert.is((await call('GET', `${w.server.api}/upgrade/nope.bin`, { token: agent })).status, 404);
  assert.is((await call('GET', `${w.server.api}/files?file_name=nope.bin`, { token: agent })).status, 404);
  assert.is((await call('GET', `${w.server.api}/files`, { token: agent })).status, 400);
  assert.is((await call('PUT', `${w.server.api}/packages/a.bin`, { token: w.operator, json: { a: 1 } })).status, 415);
  assert.is((await upload(w, 'a.bin', Buffer.from('x'), agent)).status, 403);
  assert.is((await call('GET', `${w.server.api}/upgrade/agent-4.8.0.tar.gz`, { token: w.operator })).status, 403);
});

Packages('an empty package can be stored and downloaded; any range on it is 416', async ({ w, agent }) => {
  const r = await upload(w, 'empty.bin', Buffer.alloc(0));
  assert.is(r.status, 201);
  assert.is(r.body.size, 0);
  const d = await download(`${w.server.api}/upgrade/empty.bin`, agent);
  assert.is(d.status, 200);
  assert.is(d.bytes.length, 0);
  assert.is((await download(`${w.server.api}/upgrade/empty.bin`, agent, { range: 'bytes=0-' })).status, 416);
});

Packages.run();
