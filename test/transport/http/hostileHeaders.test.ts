import { randomBytes } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { call, statelessBatch } from '../../support/client.js';
import { baselineMs, bound, timedRequest } from '../../support/timing.js';
import { startWorld, type World } from './management.support.js';

/**
 * Every header the server interprets, sent with the inputs that make backtracking parsers explode
 * (long runs of spaces around separators, unclosed quotes, endless lists), must be answered about
 * as fast as a normal request of the same route measured in the same run.
 */
const N = 1000;
const spaces = ' '.repeat(N);
const WORST: Record<string, string[]> = {
  Range: [`bytes=${spaces}-${spaces}x`, `bytes=${spaces}0${spaces}-${spaces}1${spaces}x`, `bytes=${'0-1,'.repeat(N)}`, `bytes${spaces}=${spaces}x`],
  'If-Range': [`"${'a'.repeat(4 * N)}`, `W/${spaces}"x`],
  'If-None-Match': [`${spaces}x`, `"${'a'.repeat(4 * N)}`, `${'W/"a", '.repeat(N)}x`, `${', '.repeat(2 * N)}"x`],
  'If-Match': [`${spaces}x`, `"${'a'.repeat(4 * N)}`, `${'"a" , '.repeat(N)}x`],
  'Idempotency-Key': [`${'a'.repeat(4 * N)} `, `${'!'.repeat(4 * N)}\t`],
  'X-Request-Id': [`${'a'.repeat(4 * N)}!`, `${'a:'.repeat(2 * N)} `],
  Authorization: [`Bearer ${spaces}x${spaces}y`, `Bearer ${'a.'.repeat(2 * N)}`, `Basic ${'='.repeat(4 * N)}`],
  'Content-Type': [`application/x-ndjson${';'.repeat(4 * N)}`, `application/x-ndjson;${' charset=utf-8;'.repeat(N / 2)}x`, `${spaces}/${spaces}x`],
  Accept: [`text/${spaces}event-stream${spaces}x`, `${'text/html, '.repeat(N / 2)}x`],
  'X-Forwarded-For': [`${'10.0.0.1, '.repeat(N / 2)}x`, `${spaces},${spaces}`],
};

const Headers = suite<{ w: World; agent: string }>('hostile headers are parsed in linear time');
Headers.before(async (ctx) => {
  ctx.w = await startWorld({ 'agent-1': ['linux'] }, { COMMS_API_TRUSTED_PROXIES: '127.0.0.1' });
  ctx.agent = ctx.w.agents['agent-1']!;
  const up = await call('PUT', `${ctx.w.server.api}/packages/pkg.tar.gz`, { token: ctx.w.operator, body: randomBytes(64 * 1024), type: 'application/octet-stream' });
  assert.is(up.status, 201, up.text);
});
Headers.after((ctx) => ctx.w.server.stop());

/** Sends each worst value of `header` on the request `make` builds; each answer is a 4xx or 2xx/3xx, within the bound. */
async function check(name: string, make: (value?: string) => { url: string; method?: string; headers: Record<string, string>; body?: string }) {
  const normal = await baselineMs(5, () => timedRequest(make().url, make()));
  for (const value of WORST[name]!) {
    const req = make(value);
    const r = await timedRequest(req.url, req);
    assert.ok(r.status < 500, `${name}: ${r.status} ${r.body}`);
    assert.ok(r.ms <= bound(normal), `${name} (${value.length} chars): ${r.ms.toFixed(0)} ms, a normal request ${normal.toFixed(1)} ms`);
  }
}

Headers('Range, If-Range and If-None-Match on a package download', async ({ w, agent }) => {
  const url = `${w.server.api}/upgrade/pkg.tar.gz`;
  const auth = { authorization: `Bearer ${agent}` };
  await check('Range', (v) => ({ url, headers: { ...auth, range: v ?? 'bytes=0-9' } }));
  await check('If-Range', (v) => ({ url, headers: { ...auth, range: 'bytes=0-9', 'if-range': v ?? '"x"' } }));
  await check('If-None-Match', (v) => ({ url, headers: { ...auth, 'if-none-match': v ?? '"x"' } }));
});

Headers('If-Match on a group configuration, If-None-Match on the agent configuration', async ({ w, agent }) => {
  const url = `${w.server.api}/groups/linux/configuration`;
  const body = JSON.stringify({ a: 1 });
  await check('If-Match', (v) => ({ url, method: 'PUT', body, headers: { authorization: `Bearer ${w.operator}`, 'content-type': 'application/json', 'if-match': v ?? '"nope"' } }));
  await check('If-None-Match', (v) => ({ url: `${w.server.api}/configuration`, headers: { authorization: `Bearer ${agent}`, 'if-none-match': v ?? '"x"' } }));
});

Headers('Idempotency-Key and Content-Type on an events batch', async ({ w, agent }) => {
  const url = `${w.server.api}/events/stateless`;
  const body = statelessBatch(1);
  await check('Idempotency-Key', (v) => ({ url, method: 'POST', body, headers: { authorization: `Bearer ${agent}`, 'content-type': 'application/x-ndjson', ...(v ? { 'idempotency-key': v } : {}) } }));
  await check('Content-Type', (v) => ({ url, method: 'POST', body, headers: { authorization: `Bearer ${agent}`, 'content-type': v ?? 'application/x-ndjson' } }));
});

Headers('X-Request-Id, Authorization and Accept', async ({ w, agent }) => {
  await check('X-Request-Id', (v) => ({ url: `${w.server.api}/health`, headers: { 'x-request-id': v ?? 'abc' } }));
  await check('Authorization', (v) => ({ url: `${w.server.api}/agents`, headers: { authorization: v ?? `Bearer ${w.operator}` } }));
  await check('Accept', (v) => ({ url: `${w.server.api}/commands?wait=0`, headers: { authorization: `Bearer ${agent}`, accept: v ?? 'application/json' } }));
});

Headers('X-Forwarded-For from a trusted proxy on a login', async ({ w }) => {
  const body = JSON.stringify({ uuid: 'agent-1', key: 'wrong-key-wrong-key-wrong-key-00' });
  await check('X-Forwarded-For', (v) => ({ url: `${w.server.api}/login`, method: 'POST', body, headers: { 'content-type': 'application/json', 'x-forwarded-for': v ?? '10.9.9.9' } }));
});

Headers.run();
