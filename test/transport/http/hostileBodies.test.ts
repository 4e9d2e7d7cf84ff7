import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { call, statelessBatch } from '../../support/client.js';
import { headSeq, journalRows, startWorld, type World } from './management.support.js';

const NDJSON = 'application/x-ndjson';
const JSONT = 'application/json';
/** JSON text nested `n` levels (objects, or arrays when `arrays`). */
const nested = (n: number, arrays = false): string => (arrays ? `${'['.repeat(n)}1${']'.repeat(n)}` : `${'{"a":'.repeat(n - 1)}{}${'}'.repeat(n - 1)}`);
const DEEP = nested(100_000);
const AGENT_LINE = '{"agent":{"name":"sim"}}';
const HEADER = '{"module":"logcollector","collector":"file"}';

function assertBadRequest(r: { status: number; headers: Headers; body: any; text: string }, naming: RegExp): void {
  assert.is(r.status, 400, r.text.slice(0, 300));
  assert.match(r.headers.get('content-type') ?? '', 'application/problem+json');
  assert.match(JSON.stringify(r.body), naming);
}

const Depth = suite<{ w: World; agent: string }>('one JSON nesting limit (64) wherever client JSON is parsed');
Depth.before(async (ctx) => {
  ctx.w = await startWorld({ 'agent-1': ['linux'] });
  ctx.agent = ctx.w.agents['agent-1']!;
});
Depth.after((ctx) => ctx.w.server.stop());

Depth('the agent line and a data line of a stateless batch: 400 naming the line, nothing journaled', async ({ w, agent }) => {
  const before = headSeq(w.server);
  const post = (body: string) => call('POST', `${w.server.api}/events/stateless`, { token: agent, body, type: NDJSON });
  assertBadRequest(await post(`{"agent":${DEEP}}\n${HEADER}\n{"a":1}\n`), /"line":1/);
  assertBadRequest(await post(`${AGENT_LINE}\n${HEADER}\n${nested(100_000, true).replace(/^\[/, '{"x":[').replace(/\]$/, ']}')}\n`), /"line":3/);
  assertBadRequest(await post(`${AGENT_LINE}\n${HEADER}\n{"x":${nested(64)}}\n`), /"line":3.*64/);
  assert.is(headSeq(w.server), before);
  // exactly 64 levels is fine
  const ok = await post(`${AGENT_LINE}\n${HEADER}\n${nested(64)}\n`);
  assert.is(ok.status, 202, ok.text);
});

Depth('stateful items, command items among them, and command results', async ({ w, agent }) => {
  const issued = await call('POST', `${w.server.api}/commands`, { token: w.operator, json: { action: { name: 'restart' }, target: { type: 'agent', id: 'agent-1' } } });
  assert.is(issued.status, 201, issued.text);
  const before = headSeq(w.server);
  const stateful = (lines: string[]) => call('POST', `${w.server.api}/events/stateful?wait=0`, { token: agent, body: lines.join('\n') + '\n', type: NDJSON });
  assertBadRequest(await stateful([AGENT_LINE, '{"id":"pkg-1","module":"inventory","operation":"create"}', `{"doc":${DEEP}}`]), /"line":3/);
  assertBadRequest(await stateful([AGENT_LINE, `{"id":"${issued.body.id}","module":"command","operation":"update"}`, `{"status":"success","data":${DEEP}}`]), /"line":3/);
  const result = await call('POST', `${w.server.api}/commands/${issued.body.id}/result`, { token: agent, body: `{"status":"success","data":${DEEP}}`, type: JSONT });
  assertBadRequest(result, /"field":"data\.a\.a\.a\.…"/);
  assert.is(headSeq(w.server), before);
});

Depth('group configurations, catalogue schemas and command args', async ({ w }) => {
  const before = headSeq(w.server);
  const put = await call('PUT', `${w.server.api}/groups/linux/configuration`, { token: w.operator, body: DEEP, type: JSONT, headers: { 'if-match': '*' } });
  assertBadRequest(put, /nested deeper than 64/);
  const schema = await call('PUT', `${w.server.api}/catalog/deep`, {
    token: w.operator,
    body: `{"description":"d","args":${DEEP},"default_timeout":60,"target_types":["agent"]}`,
    type: JSONT,
  });
  assertBadRequest(schema, /"field":"args\.a\.a\.a\.…"/);
  const args = await call('POST', `${w.server.api}/commands`, { token: w.operator, body: `{"action":{"name":"restart","args":${DEEP}},"target":{"type":"agent","id":"agent-1"}}`, type: JSONT });
  assertBadRequest(args, /"field":"action\.args\.a\.a\.…"/);
  assert.is(headSeq(w.server), before);
});

Depth.run();

const Idempotency = suite<{ w: World; agent: string }>('Idempotency-Key remembers the body');
Idempotency.before(async (ctx) => {
  ctx.w = await startWorld({ 'agent-1': [] });
  ctx.agent = ctx.w.agents['agent-1']!;
});
Idempotency.after((ctx) => ctx.w.server.stop());

Idempotency('the same key with the same body is the first answer; with another body 422 and nothing journaled', async ({ w, agent }) => {
  const post = (body: string) => call('POST', `${w.server.api}/events/stateless`, { token: agent, body, type: NDJSON, headers: { 'idempotency-key': 'batch-0001' } });
  const first = await post(statelessBatch(2));
  assert.is(first.status, 202, first.text);
  const again = await post(statelessBatch(2));
  assert.equal(again.body, first.body);
  const before = headSeq(w.server);
  const other = await post(statelessBatch(3));
  assert.is(other.status, 422, other.text);
  assert.match(other.headers.get('content-type') ?? '', 'application/problem+json');
  assert.match(other.body.detail, /batch-0001/);
  assert.is(headSeq(w.server), before);
  assert.is(journalRows(w.server).filter((r) => r.type === 'StatelessEventsReceived').length, 1);
});

Idempotency.run();

const Proto = suite<{ w: World; agent: string }>('__proto__, constructor and prototype are kept as data');
Proto.before(async (ctx) => {
  ctx.w = await startWorld({ 'agent-1': ['linux'] });
  ctx.agent = ctx.w.agents['agent-1']!;
});
Proto.after((ctx) => ctx.w.server.stop());

const TRICKY = '{"__proto__":{"polluted":true},"constructor":{"name":"x"},"prototype":{"p":1},"nested":{"__proto__":{"n":1}}}';
const hasTricky = (v: unknown) => {
  const o = v as Record<string, unknown>;
  assert.ok(Object.prototype.hasOwnProperty.call(o, '__proto__'), `__proto__ kept: ${JSON.stringify(o)}`);
  assert.is(JSON.stringify(o), TRICKY);
  assert.is(({} as Record<string, unknown>).polluted, undefined, 'no prototype pollution');
};

Proto('in a group configuration, as stored, as served and as merged for the agent', async ({ w, agent }) => {
  const etag = (await call('GET', `${w.server.api}/groups/linux/configuration`, { token: w.operator })).headers.get('etag')!;
  const put = await call('PUT', `${w.server.api}/groups/linux/configuration`, { token: w.operator, body: TRICKY, type: JSONT, headers: { 'if-match': etag } });
  assert.is(put.status, 200, put.text);
  hasTricky((await call('GET', `${w.server.api}/groups/linux/configuration`, { token: w.operator })).body);
  hasTricky((await call('GET', `${w.server.api}/configuration`, { token: agent })).body);
  const stored = journalRows(w.server).filter((r) => r.type === 'GroupConfigurationPut');
  hasTricky(JSON.parse(stored[stored.length - 1]!.data).configuration);
});

Proto('in catalogue schemas, command args and command results', async ({ w, agent }) => {
  const schema = `{"type":"object","properties":{"__proto__":{"type":"object"},"constructor":{"type":"object"},"prototype":{"type":"object"},"nested":{"type":"object"}}}`;
  const cat = await call('PUT', `${w.server.api}/catalog/tricky`, { token: w.operator, body: `{"description":"t","args":${schema},"default_timeout":60,"target_types":["agent"]}`, type: JSONT });
  assert.is(cat.status, 201, cat.text);
  const listed = (await call('GET', `${w.server.api}/catalog`, { token: w.operator })).body.items.find((i: { name: string }) => i.name === 'tricky');
  assert.ok(Object.prototype.hasOwnProperty.call(listed.args.properties, '__proto__'));
  const issued = await call('POST', `${w.server.api}/commands`, { token: w.operator, body: `{"action":{"name":"tricky","args":${TRICKY}},"target":{"type":"agent","id":"agent-1"}}`, type: JSONT });
  assert.is(issued.status, 201, issued.text);
  const r = await call('POST', `${w.server.api}/commands/${issued.body.id}/result`, { token: agent, body: `{"status":"success","data":${TRICKY}}`, type: JSONT });
  assert.is(r.status, 204, r.text);
  const details = (await call('GET', `${w.server.api}/commands/${issued.body.id}`, { token: w.operator })).body;
  hasTricky(details.action.args);
  hasTricky(details.targets[0].data);
});

Proto.run();
