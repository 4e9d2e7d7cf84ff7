import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { call } from '../../support/client.js';
import { openSse } from '../../support/sse.js';
import { headSeq, journalRows, startWorld, type World } from './management.support.js';

const EMPTY_ETAG = '"44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"'; // sha256("{}")

async function getConfig(w: World, group: string) {
  return call('GET', `${w.server.api}/groups/${group}/configuration`, { token: w.operator });
}
async function putConfig(w: World, group: string, json: unknown, ifMatch?: string) {
  return call('PUT', `${w.server.api}/groups/${group}/configuration`, {
    token: w.operator,
    json,
    ...(ifMatch !== undefined ? { headers: { 'if-match': ifMatch } } : {}),
  });
}

const Groups = suite<{ w: World }>("a group's configuration");
// one server for the suite: each test writes its own groups
Groups.before(async (ctx) => {
  ctx.w = await startWorld({ 'agent-1': ['default', 'linux'] });
});
Groups.after((ctx) => ctx.w.server.stop());

Groups('a group without configuration is {} with the ETag of {}', async ({ w }) => {
  const r = await getConfig(w, 'nobody-set-this');
  assert.is(r.status, 200);
  assert.equal(r.body, {});
  assert.is(r.headers.get('etag'), EMPTY_ETAG);
});

Groups('PUT without If-Match is 428 and journals nothing', async ({ w }) => {
  const before = headSeq(w.server);
  const r = await putConfig(w, 'linux', { a: 1 });
  assert.is(r.status, 428);
  assert.is(r.headers.get('content-type'), 'application/problem+json');
  assert.is(headSeq(w.server), before);
});

Groups('PUT with the current ETag stores the configuration as a GroupConfigurationPut entry', async ({ w }) => {
  const r = await putConfig(w, 'stored', { log: { level: 'debug' } }, EMPTY_ETAG);
  assert.is(r.status, 200, r.text);
  const etag = r.headers.get('etag')!;
  assert.match(etag, /^"[0-9a-f]{64}"$/);
  const g = await getConfig(w, 'stored');
  assert.equal(g.body, { log: { level: 'debug' } });
  assert.is(g.headers.get('etag'), etag);
  const rows = journalRows(w.server).filter((e) => e.type === 'GroupConfigurationPut' && e.stream === 'group:stored');
  assert.is(rows.length, 1);
  assert.is(rows[0]!.actor, 'user:olga');
  assert.equal(JSON.parse(rows[0]!.data), { group: 'stored', configuration: { log: { level: 'debug' } }, etag });
});

Groups('the ETag is derived from the content: key order does not change it', async ({ w }) => {
  const a = await putConfig(w, 'g1', { x: 1, y: { b: 2, a: 1 } }, EMPTY_ETAG);
  const b = await putConfig(w, 'g2', { y: { a: 1, b: 2 }, x: 1 }, EMPTY_ETAG);
  assert.is(a.headers.get('etag'), b.headers.get('etag'));
});

Groups('PUT with a stale ETag is 412 naming the current one, and journals nothing', async ({ w }) => {
  const first = await putConfig(w, 'stale', { v: 1 }, EMPTY_ETAG);
  await putConfig(w, 'stale', { v: 2 }, first.headers.get('etag')!);
  const before = headSeq(w.server);
  const stale = await putConfig(w, 'stale', { v: 3 }, first.headers.get('etag')!);
  assert.is(stale.status, 412);
  assert.is(stale.headers.get('content-type'), 'application/problem+json');
  assert.is(stale.headers.get('etag'), (await getConfig(w, 'stale')).headers.get('etag'));
  assert.is(headSeq(w.server), before);
  assert.equal((await getConfig(w, 'stale')).body, { v: 2 });
});

Groups('If-Match: * matches only a group that has a configuration', async ({ w }) => {
  assert.is((await putConfig(w, 'fresh', { a: 1 }, '*')).status, 412);
  assert.is((await putConfig(w, 'fresh', { a: 1 }, EMPTY_ETAG)).status, 200);
  assert.is((await putConfig(w, 'fresh', { a: 2 }, '*')).status, 200);
  assert.equal((await getConfig(w, 'fresh')).body, { a: 2 });
});

Groups('a weak ETag never satisfies If-Match', async ({ w }) => {
  assert.is((await putConfig(w, 'weak', { a: 1 }, `W/${EMPTY_ETAG}`)).status, 412);
});

Groups('an unchanged configuration appends nothing', async ({ w }) => {
  const r = await putConfig(w, 'unchanged', { a: 1 }, EMPTY_ETAG);
  const before = headSeq(w.server);
  const again = await putConfig(w, 'unchanged', { a: 1 }, r.headers.get('etag')!);
  assert.is(again.status, 200);
  assert.is(again.headers.get('etag'), r.headers.get('etag'));
  assert.is(headSeq(w.server), before);
});

Groups('bad bodies are refused: not an object 400, not JSON 400, wrong type 415, too deep 400', async ({ w }) => {
  const before = headSeq(w.server);
  const url = `${w.server.api}/groups/linux/configuration`;
  const h = { 'if-match': EMPTY_ETAG };
  assert.is((await call('PUT', url, { token: w.operator, json: [1, 2], headers: h })).status, 400);
  assert.is((await call('PUT', url, { token: w.operator, body: '{"a":', type: 'application/json', headers: h })).status, 400);
  assert.is((await call('PUT', url, { token: w.operator, body: 'a=1', type: 'text/plain', headers: h })).status, 415);
  const deep = '{"a":'.repeat(100) + '1' + '}'.repeat(100);
  assert.is((await call('PUT', url, { token: w.operator, body: deep, type: 'application/json', headers: h })).status, 400);
  assert.is((await call('PUT', `${w.server.api}/groups/..%2Fetc/configuration`, { token: w.operator, json: {}, headers: h })).status, 400);
  assert.is(headSeq(w.server), before);
});

Groups('agents and auditors cannot read or write group configurations', async ({ w }) => {
  assert.is((await call('GET', `${w.server.api}/groups/linux/configuration`, { token: w.agents['agent-1'] })).status, 403);
  assert.is((await call('GET', `${w.server.api}/groups/linux/configuration`, { token: w.auditor })).status, 403);
  const r = await call('PUT', `${w.server.api}/groups/linux/configuration`, {
    token: w.auditor,
    json: { a: 1 },
    headers: { 'if-match': EMPTY_ETAG },
  });
  assert.is(r.status, 403);
});

const Merged = suite<{ w: World }>("an agent's merged configuration");
Merged.before(async (ctx) => {
  ctx.w = await startWorld({ 'agent-1': ['default', 'linux'], 'agent-2': ['linux', 'default'], 'agent-3': ['windows'] });
  await putConfig(ctx.w, 'default', { log: { level: 'info', files: ['/var/log/a'] }, interval: 60, only_default: true }, EMPTY_ETAG);
  await putConfig(ctx.w, 'linux', { log: { level: 'debug', files: ['/var/log/b'] }, interval: 30 }, EMPTY_ETAG);
});
Merged.after((ctx) => ctx.w.server.stop());

Merged('later groups override earlier ones; objects merge deeply, arrays are replaced', async ({ w }) => {
  const r = await call('GET', `${w.server.api}/configuration`, { token: w.agents['agent-1'] });
  assert.is(r.status, 200);
  assert.equal(r.body, { log: { level: 'debug', files: ['/var/log/b'] }, interval: 30, only_default: true });
});

Merged('the order of the groups on the agent decides', async ({ w }) => {
  const r = await call('GET', `${w.server.api}/configuration`, { token: w.agents['agent-2'] });
  assert.equal(r.body, { log: { level: 'info', files: ['/var/log/a'] }, interval: 60, only_default: true });
});

Merged('an agent whose groups have no configuration gets {}', async ({ w }) => {
  const r = await call('GET', `${w.server.api}/configuration`, { token: w.agents['agent-3'] });
  assert.equal(r.body, {});
  assert.is(r.headers.get('etag'), EMPTY_ETAG);
});

Merged('If-None-Match with the current ETag is 304; with another it is 200', async ({ w }) => {
  const t = w.agents['agent-1'];
  const r = await call('GET', `${w.server.api}/configuration`, { token: t });
  const etag = r.headers.get('etag')!;
  const same = await call('GET', `${w.server.api}/configuration`, { token: t, headers: { 'if-none-match': etag } });
  assert.is(same.status, 304);
  assert.is(same.text, '');
  const listed = await call('GET', `${w.server.api}/configuration`, { token: t, headers: { 'if-none-match': `"x", W/${etag}` } });
  assert.is(listed.status, 304);
  const other = await call('GET', `${w.server.api}/configuration`, { token: t, headers: { 'if-none-match': EMPTY_ETAG } });
  assert.is(other.status, 200);
});

Merged('operators cannot read the agent configuration endpoint (it is the agent\'s own)', async ({ w }) => {
  assert.is((await call('GET', `${w.server.api}/configuration`, { token: w.operator })).status, 403);
  assert.is((await call('GET', `${w.server.api}/configuration`)).status, 401);
});

const Push = suite<{ w: World }>('configuration changes pushed to streams');
Push.before(async (ctx) => {
  ctx.w = await startWorld({ 'agent-1': ['default', 'linux'], 'agent-2': ['linux'], 'agent-3': ['windows'] });
});
Push.after((ctx) => ctx.w.server.stop());

Push("a group change reaches each member's stream as event: config with its merged configuration", async ({ w }) => {
  const s1 = await openSse(`${w.server.api}/commands`, { token: w.agents['agent-1'] });
  const s2 = await openSse(`${w.server.api}/commands`, { token: w.agents['agent-2'] });
  const s3 = await openSse(`${w.server.api}/commands`, { token: w.agents['agent-3'] });
  try {
    await putConfig(w, 'default', { a: 1, b: 1 }, EMPTY_ETAG);
    const d1 = JSON.parse((await s1.next((e) => e.event === 'config')).data);
    assert.equal(d1.configuration, { a: 1, b: 1 });
    await putConfig(w, 'linux', { b: 2 }, EMPTY_ETAG);
    const d1b = JSON.parse((await s1.next((e) => e.event === 'config')).data);
    assert.equal(d1b.configuration, { a: 1, b: 2 });
    const mine = await call('GET', `${w.server.api}/configuration`, { token: w.agents['agent-1'] });
    assert.is(d1b.etag, mine.headers.get('etag'));
    const d2 = JSON.parse((await s2.next((e) => e.event === 'config')).data);
    assert.equal(d2.configuration, { b: 2 });
    // agent-3 is in neither group: the stream got no config event at all
    assert.is(s3.events.filter((e) => e.event === 'config').length, 0);
    assert.is(s2.events.filter((e) => e.event === 'config').length, 1);
  } finally {
    s1.close();
    s2.close();
    s3.close();
  }
});

Push('a set-group command changes membership and pushes the new merged configuration at once', async ({ w }) => {
  const s3 = await openSse(`${w.server.api}/commands`, { token: w.agents['agent-3'] });
  try {
    const linux = await getConfig(w, 'linux');
    const r = await call('POST', `${w.server.api}/commands`, {
      token: w.operator,
      json: { action: { name: 'set-group', args: { groups: ['windows', 'linux'] } }, target: { type: 'agent', id: 'agent-3' } },
    });
    assert.is(r.status, 201, r.text);
    const pushed = JSON.parse((await s3.next((e) => e.event === 'config')).data);
    assert.equal(pushed.configuration, linux.body);
    const mine = await call('GET', `${w.server.api}/configuration`, { token: w.agents['agent-3'] });
    assert.equal(mine.body, linux.body);
    assert.is(pushed.etag, mine.headers.get('etag'));
    const agent = await call('GET', `${w.server.api}/agents/agent-3`, { token: w.operator });
    assert.equal(agent.body.groups, ['windows', 'linux']);
  } finally {
    s3.close();
  }
});

Groups.run();
Merged.run();
Push.run();
