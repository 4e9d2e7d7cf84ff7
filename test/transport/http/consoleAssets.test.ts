import http from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { call } from '../../support/client.js';
import { ROOT, startTestServer, type TestServer } from '../../support/server.js';

/** GET with the path sent exactly as written (fetch would normalise `..`). */
function rawGet(url: string, path: string): Promise<{ status: number; type: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    http
      .get({ host: u.hostname, port: u.port, path }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? '') }));
      })
      .on('error', reject);
  });
}

const assets = suite<{ server: TestServer }>('the console is served by the server');
assets.before(async (ctx) => {
  ctx.server = await startTestServer();
});
assets.after(async (ctx) => {
  await ctx.server.stop();
});

assets('/console/ is the page, with a Content-Security-Policy that allows no inline script or style', async ({ server }) => {
  const r = await call('GET', `${server.url}/console/`);
  assert.is(r.status, 200);
  assert.match(r.headers.get('content-type') ?? '', /^text\/html/);
  assert.is(r.text, readFileSync(join(ROOT, 'console/index.html'), 'utf8'));
  const csp = r.headers.get('content-security-policy') ?? '';
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.match(csp, /style-src 'self'(;|$)/);
  assert.not.match(csp, /unsafe-inline|unsafe-eval|https?:/);
  assert.is(r.headers.get('x-content-type-options'), 'nosniff');
  // nothing inline in the page itself
  assert.not.match(r.text, /<script>|<style|\sstyle=|\son[a-z]+=/i);
});

assets('/console redirects to /console/, and the modules are served as JavaScript', async ({ server }) => {
  const redirect = await fetch(`${server.url}/console`, { redirect: 'manual' });
  assert.is(redirect.status, 302);
  assert.is(redirect.headers.get('location'), '/console/');
  const js = await call('GET', `${server.url}/console/js/app.js`);
  assert.is(js.status, 200);
  assert.match(js.headers.get('content-type') ?? '', /^text\/javascript/);
  assert.ok(js.headers.get('content-security-policy'));
});

assets('an unknown file or a path that climbs out is a 404 problem, never a file outside console/', async ({ server }) => {
  const missing = await call('GET', `${server.url}/console/nope.js`);
  assert.is(missing.status, 404);
  assert.match(missing.headers.get('content-type') ?? '', /problem\+json/);
  for (const path of ['/console/../package.json', '/console/js/../../package.json', '/console/%2e%2e/package.json', '/console/..%2fpackage.json']) {
    const r = await rawGet(server.url, path);
    assert.is(r.status, 404, path);
  }
  const post = await call('POST', `${server.url}/console/`, { json: {} });
  assert.ok(post.status >= 400 && post.status < 500, String(post.status));
});

assets.run();
