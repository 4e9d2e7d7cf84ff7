import { randomBytes } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { call } from '../../support/client.js';
import { AGENT_KEY } from '../../support/server.js';
import { bound, median, timedRequest } from '../../support/timing.js';
import { startWorld, type World } from './management.support.js';

const loginRequest = (api: string, body: unknown, forwardedFor?: string) =>
  timedRequest(`${api}/login`, {
    method: 'POST',
    body: JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...(forwardedFor ? { 'x-forwarded-for': forwardedFor } : {}) },
  });
const wrong = (uuid: string) => ({ uuid, key: 'w'.repeat(32) });

const Throttle = suite<{ w: World }>('the login throttle under concurrency, keyed per principal and address');
Throttle.before(async (ctx) => {
  ctx.w = await startWorld({ 'agent-1': [], 'agent-2': [] });
});
Throttle.after((ctx) => ctx.w.server.stop());

Throttle('200 simultaneous wrong guesses for one uuid: at most 5 are evaluated, the rest are 429 with Retry-After', async ({ w }) => {
  const answers = await Promise.all(Array.from({ length: 200 }, () => loginRequest(w.server.api, wrong('agent-1'))));
  const evaluated = answers.filter((a) => a.status === 401).length;
  const throttled = answers.filter((a) => a.status === 429);
  // 5 free, then one at a time after each delay (1 s, 2 s, ...) while the burst is still arriving
  assert.ok(evaluated <= 8, `${evaluated} guesses evaluated`);
  assert.is(evaluated + throttled.length, 200, JSON.stringify(answers.map((a) => a.status)));
  assert.ok(throttled.every((a) => Number(a.headers['retry-after']) >= 1));
});

Throttle('failed logins for an unknown agent do not lock out a valid agent from the same address', async ({ w }) => {
  for (let i = 0; i < 9; i++) {
    const r = await loginRequest(w.server.api, wrong('ghost'));
    assert.ok(r.status === 401 || r.status === 429, String(r.status));
  }
  const ok = await loginRequest(w.server.api, { uuid: 'agent-2', key: AGENT_KEY });
  assert.is(ok.status, 200, ok.body);
});

Throttle.run();

/** `n` failed logins, each for a new unknown principal, all said to come from `forwardedFor(i)`. */
async function failMany(api: string, n: number, forwardedFor: (i: number) => string, tag: string): Promise<void> {
  for (let i = 0; i < n; i += 10) {
    const batch = Array.from({ length: Math.min(10, n - i) }, (_, j) => loginRequest(api, wrong(`${tag}-${i + j}`), forwardedFor(i + j)));
    for (const r of await Promise.all(batch)) assert.is(r.status, 401, r.body);
  }
}

const Proxies = suite<{ trusted: World; untrusted: World }>('X-Forwarded-For is believed only from a trusted proxy');
Proxies.before(async (ctx) => {
  ctx.trusted = await startWorld({}, { COMMS_API_TRUSTED_PROXIES: '127.0.0.1, ::1, ::ffff:127.0.0.1' });
  ctx.untrusted = await startWorld({}, { COMMS_API_TRUSTED_PROXIES: '10.255.255.1/32' });
});
Proxies.after(async (ctx) => {
  await ctx.trusted.server.stop();
  await ctx.untrusted.server.stop();
});

Proxies('behind a trusted proxy each client address has its own ceiling (100 failures)', async ({ trusted }) => {
  await failMany(trusted.server.api, 100, () => '10.0.0.1', 'a');
  assert.is((await loginRequest(trusted.server.api, wrong('fresh-1'), '10.0.0.1')).status, 429);
  assert.is((await loginRequest(trusted.server.api, wrong('fresh-2'), '10.0.0.2')).status, 401);
});

Proxies('from an address that is not a listed proxy, X-Forwarded-For is ignored', async ({ untrusted }) => {
  await failMany(untrusted.server.api, 100, (i) => `10.1.${i >> 8}.${i & 255}`, 'b');
  assert.is((await loginRequest(untrusted.server.api, wrong('fresh-3'), '10.2.0.1')).status, 429);
});

Proxies.run();

const Flood = suite<{ w: World; agent: string }>('a login flood does not starve file I/O or the event loop');
Flood.before(async (ctx) => {
  ctx.w = await startWorld({ 'agent-1': [] }, { COMMS_API_TRUSTED_PROXIES: '127.0.0.1, ::1, ::ffff:127.0.0.1' });
  ctx.agent = ctx.w.agents['agent-1']!;
  const up = await call('PUT', `${ctx.w.server.api}/packages/pkg.bin`, { token: ctx.w.operator, body: randomBytes(64 * 1024), type: 'application/octet-stream' });
  assert.is(up.status, 201, up.text);
});
Flood.after((ctx) => ctx.w.server.stop());

Flood('1,200 logins, 25 in flight all along (half for unknown agents, each from its own address): downloads and /health stay near idle', async ({ w, agent }) => {
  const download = () => timedRequest(`${w.server.api}/upgrade/pkg.bin`, { headers: { authorization: `Bearer ${agent}` } });
  const health = () => timedRequest(`${w.server.api}/health`);
  const idleDownloads: number[] = [];
  const idleHealth: number[] = [];
  for (let i = 0; i < 10; i++) {
    idleDownloads.push((await download()).ms);
    idleHealth.push((await health()).ms);
  }
  // A flood that lasts: 25 logins in flight until 1,200 were sent, so every probe below starts and
  // ends while credential checks are running (a one-shot burst can be over before the probes are, on a
  // loaded machine). File I/O (the download) and the event loop (/health) must not wait behind them.
  const TOTAL = 1200;
  let sent = 0;
  let pending = TOTAL;
  const results: Array<Awaited<ReturnType<typeof loginRequest>>> = [];
  const lane = async (): Promise<void> => {
    while (sent < TOTAL) {
      const i = sent++;
      results.push(await loginRequest(w.server.api, i % 2 ? wrong(`unknown-${i}`) : wrong('agent-1'), `10.${i >> 8}.${i & 255}.7`));
      pending -= 1;
    }
  };
  const flood = Array.from({ length: 25 }, lane);
  while (sent < 300) await new Promise((r) => setTimeout(r, 5));
  const downloads: number[] = [];
  const healths: number[] = [];
  for (let i = 0; i < 10 && pending > 100; i++) {
    const d = await download();
    assert.is(d.status, 200);
    const h = await health();
    if (pending === 0) break; // only probes that began and ended within the flood count
    downloads.push(d.ms);
    healths.push(h.ms);
  }
  await Promise.all(flood);
  for (const a of results) {
    assert.ok([401, 429, 503].includes(a.status), `${a.status} ${a.body}`);
    if (a.status === 503) assert.ok(Number(a.headers['retry-after']) >= 1, 'a 503 says when to retry');
  }
  const d = median(downloads);
  const h = median(healths);
  assert.ok(d <= bound(median(idleDownloads)), `download median ${d.toFixed(0)} ms during the flood, idle ${median(idleDownloads).toFixed(1)} ms`);
  assert.ok(h <= bound(median(idleHealth)), `/health median ${h.toFixed(0)} ms during the flood, idle ${median(idleHealth).toFixed(1)} ms`);
  assert.ok(Math.max(...downloads) <= bound(median(idleDownloads), 20, 1500), `worst download ${Math.max(...downloads).toFixed(0)} ms`);
  assert.ok(downloads.length >= 3, `${downloads.length} probes began and ended while logins were in flight (3 needed)`);
});

Flood.run();
