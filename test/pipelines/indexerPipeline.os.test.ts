import { randomBytes } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createIndexerClient, type IndexerClient } from '../../src/indexer/indexerClient.js';
import { AGENTS_INDEX, COMMANDS_INDEX, statesIndex } from '../../src/indexer/templates.js';
import { call, login, ndjson } from '../support/client.js';
import { AGENT_KEY, addUser, startTestServer, type TestServer } from '../support/server.js';
import { eventually } from '../support/eventually.js';

const url = process.env.OPENSEARCH_URL;
if (!url) throw new Error('OPENSEARCH_URL is not set: run this file through scripts/test.mjs (it starts OpenSearch)');

interface Ctx {
  server: TestServer;
  indexer: IndexerClient;
  operator: string;
  agent: string;
  uuid: string;
  module: string;
}

const AGENT_LINE = { agent: { id: 'ignored', name: 'stateful-sim' } };
const post = (ctx: Ctx, lines: unknown[], query = '', token = ctx.agent) =>
  call('POST', `${ctx.server.api}/events/stateful${query}`, { token, body: ndjson(lines), type: 'application/x-ndjson' });
const head = async (ctx: Ctx) => (await call('GET', `${ctx.server.api}/journal/stats`, { token: ctx.operator })).body.head_seq as number;

async function docs(ctx: Ctx, index: string): Promise<Record<string, unknown>> {
  await ctx.indexer.client.indices.refresh({ index, ignore_unavailable: true } as never);
  const r = await ctx.indexer.client.search({ index, body: { size: 1000, query: { match_all: {} } }, ignore_unavailable: true } as never);
  const hits = (r.body as { hits: { hits: Array<{ _id: string; _source: unknown }> } }).hits.hits;
  // each state document names its agent (from the token): checked here, then left out of the comparisons
  return Object.fromEntries(
    hits.map((h) => {
      const { agent, ...rest } = h._source as { agent?: { id?: string } };
      if (index.startsWith('wazuh-states-')) assert.is(agent?.id, ctx.uuid, `agent.id of ${h._id}`);
      return [h._id, index.startsWith('wazuh-states-') ? rest : h._source];
    }),
  );
}

const stateful = suite<Ctx>('stateful events and the indexer pipeline');

stateful.before(async (ctx) => {
  ctx.indexer = createIndexerClient({ url });
});
stateful.before.each(async (ctx) => {
  ctx.server = await startTestServer({ COMMS_API_INDEXER_URL: url!, COMMS_API_ENGINE_SOCKET: '/nonexistent/engine.sock' });
  await addUser(ctx.server.dataDir, 'ops', 'operator');
  ctx.operator = await login(ctx.server.api, { username: 'ops', password: 'correct horse battery' });
  ctx.uuid = `agent-${randomBytes(4).toString('hex')}`;
  ctx.module = `test-${randomBytes(4).toString('hex')}`;
  const r = await call('POST', `${ctx.server.api}/agents`, { token: ctx.operator, json: { uuid: ctx.uuid, key: AGENT_KEY, groups: ['g1'] } });
  assert.is(r.status, 201, r.text);
  ctx.agent = await login(ctx.server.api, { uuid: ctx.uuid, key: AGENT_KEY });
});
stateful.after.each(async (ctx) => {
  await ctx.server.stop();
  await ctx.indexer.client.indices.delete({ index: statesIndex(ctx.module), ignore_unavailable: true } as never).catch(() => {});
});
stateful.after(async (ctx) => ctx.indexer.close());

stateful('a batch is indexed within the wait: 200 with per-item results, and the index holds the states', async (ctx) => {
  const m = ctx.module;
  const first = await post(ctx, [
    AGENT_LINE,
    { id: 'pkg-1', module: m, collector: 'packages', operation: 'create' }, { name: 'openssl', version: '3.0.1' },
    { id: 'pkg-2', module: m, operation: 'create' }, { name: 'curl', version: '8.0' },
    { id: 'pkg-3', module: m, operation: 'create' }, { name: 'zlib', version: '1.3' },
  ]);
  assert.is(first.status, 200, first.text);
  assert.is(first.body.durability, 'indexed');
  assert.equal(first.body.results.map((r: { id: string; status: number; index: string }) => [r.id, r.status, r.index]), [
    ['pkg-1', 201, statesIndex(m)],
    ['pkg-2', 201, statesIndex(m)],
    ['pkg-3', 201, statesIndex(m)],
  ]);
  const second = await post(ctx, [
    AGENT_LINE,
    { id: 'pkg-1', module: m, operation: 'update' }, { version: '3.0.2' },
    { id: 'pkg-2', module: m, operation: 'delete' },
    { id: 'pkg-9', module: m, operation: 'update' }, { name: 'new', version: '1' },
  ], '?wait=20');
  assert.is(second.status, 200, second.text);
  assert.equal(second.body.results.map((r: { result: string }) => r.result), ['updated', 'deleted', 'created']);
  assert.equal(await docs(ctx, statesIndex(m)), {
    'pkg-1': { name: 'openssl', version: '3.0.2' },
    'pkg-3': { name: 'zlib', version: '1.3' },
    'pkg-9': { name: 'new', version: '1' },
  });
  const state = await call('GET', `${ctx.server.api}/events/stateful/${second.body.batch}`, { token: ctx.agent });
  assert.is(state.status, 200);
  assert.is(state.body.state, 'indexed');
  assert.is(state.body.items.length, 3);
  const byOperator = await call('GET', `${ctx.server.api}/events/stateful/${second.body.batch}`, { token: ctx.operator });
  assert.is(byOperator.status, 200);
});

stateful('agents and commands are mirrored with ids derived from the journal', async (ctx) => {
  const agents = await eventually(() => docs(ctx, AGENTS_INDEX), (d) => ctx.uuid in d);
  assert.equal((agents[ctx.uuid] as { groups: string[] }).groups, ['g1']);
  const issued = await call('POST', `${ctx.server.api}/commands`, {
    token: ctx.operator,
    json: { action: { name: 'restart', args: {} }, target: { type: 'agent', id: ctx.uuid } },
  });
  assert.is(issued.status, 201, issued.text);
  const id = issued.body.id as string;
  // a stateful item of module "command" is that command's result
  const r = await post(ctx, [AGENT_LINE, { id, module: 'command', operation: 'update' }, { status: 'success', code: 0, message: 'restarted' }]);
  assert.is(r.status, 200, r.text);
  const command = await call('GET', `${ctx.server.api}/commands/${id}`, { token: ctx.operator });
  assert.match(JSON.stringify(command.body), /"success"/);
  const mirrored = await eventually(
    () => docs(ctx, COMMANDS_INDEX),
    (d) => (d[`${id}:${ctx.uuid}`] as { state?: string } | undefined)?.state === 'success',
  );
  assert.is((mirrored[`${id}:${ctx.uuid}`] as { message: string }).message, 'restarted');
  await ctx.indexer.client.indices.delete({ index: statesIndex('command'), ignore_unavailable: true } as never).catch(() => {});
});

stateful('bad bodies get 400 naming the line and journal nothing', async (ctx) => {
  const m = ctx.module;
  const before = await head(ctx);
  const cases: Array<[unknown[], number]> = [
    [[AGENT_LINE, { id: 'x', module: m, operation: 'create' }], 3],
    [[AGENT_LINE, { id: 'x', module: m, operation: 'upsert' }, {}], 2],
    [[AGENT_LINE, { module: m, operation: 'create' }, {}], 2],
    [[AGENT_LINE, { id: 'x', module: m, operation: 'create' }, [1, 2]], 3],
    [[{ nope: 1 }, { id: 'x', module: m, operation: 'delete' }], 1],
    [[AGENT_LINE], 2],
  ];
  for (const [lines, line] of cases) {
    const r = await post(ctx, lines);
    assert.is(r.status, 400, r.text);
    assert.is(r.headers.get('content-type'), 'application/problem+json');
    assert.is(r.body.errors[0].line, line, JSON.stringify(r.body));
  }
  const badWait = await post(ctx, [AGENT_LINE, { id: 'x', module: m, operation: 'delete' }], '?wait=61');
  assert.is(badWait.status, 400);
  const wrongType = await call('POST', `${ctx.server.api}/events/stateful`, { token: ctx.agent, body: '{}', type: 'text/plain' });
  assert.is(wrongType.status, 415);
  const notAgent = await post(ctx, [AGENT_LINE, { id: 'x', module: m, operation: 'delete' }], '', ctx.operator);
  assert.is(notAgent.status, 403);
  assert.is(await head(ctx), before);
});

stateful('wait=0 answers 202 with a status URL that later shows the indexed batch', async (ctx) => {
  const r = await post(ctx, [AGENT_LINE, { id: 'one', module: ctx.module, operation: 'create' }, { a: 1 }], '?wait=0');
  assert.is(r.status, 202, r.text);
  assert.is(r.body.durability, 'journaled');
  assert.is(r.body.status_url, `/api/v1/events/stateful/${r.body.batch}`);
  const state = await eventually(
    () => call('GET', `${ctx.server.url}${r.body.status_url}`, { token: ctx.agent }),
    (s) => s.body.state === 'indexed',
  );
  assert.equal(state.body.items.map((i: { id: string; status: number }) => [i.id, i.status]), [['one', 201]]);
  const stranger = await call('POST', `${ctx.server.api}/agents`, { token: ctx.operator, json: { uuid: `${ctx.uuid}-x`, key: AGENT_KEY } });
  assert.is(stranger.status, 201);
  const other = await login(ctx.server.api, { uuid: `${ctx.uuid}-x`, key: AGENT_KEY });
  const hidden = await call('GET', `${ctx.server.url}${r.body.status_url}`, { token: other });
  assert.is(hidden.status, 404);
});

stateful('a mapping conflict is dead-lettered, the pipeline goes on, and a retry after the fix delivers it', async (ctx) => {
  const m = ctx.module;
  const ok = await post(ctx, [AGENT_LINE, { id: 'n1', module: m, operation: 'create' }, { size: 5 }]);
  assert.is(ok.status, 200, ok.text);
  const bad = await post(ctx, [
    AGENT_LINE,
    { id: 'n2', module: m, operation: 'create' }, { size: 'five' },
    { id: 'n3', module: m, operation: 'create' }, { size: 6 },
  ]);
  assert.is(bad.status, 200, bad.text);
  assert.equal(bad.body.results.map((r: { status: number; result: string }) => [r.status, r.result]), [[400, 'dead-lettered'], [201, 'created']]);
  const later = await post(ctx, [AGENT_LINE, { id: 'n4', module: m, operation: 'create' }, { size: 7 }]);
  assert.is(later.status, 200);
  const dl = await call('GET', `${ctx.server.api}/dead-letters?sink=indexer`, { token: ctx.operator });
  assert.is(dl.body.dead_letters.length, 1);
  assert.match(dl.body.dead_letters[0].reason, /mapper_parsing_exception/);
  const id = dl.body.dead_letters[0].id;
  const still = await call('POST', `${ctx.server.api}/dead-letters/${id}/retry`, { token: ctx.operator });
  assert.is(still.status, 409, still.text);
  // the fix: the field's mapping becomes a keyword in a new index
  await ctx.indexer.client.indices.delete({ index: statesIndex(m) } as never);
  await ctx.indexer.client.indices.create({ index: statesIndex(m), body: { mappings: { properties: { size: { type: 'keyword' } } } } } as never);
  const retried = await call('POST', `${ctx.server.api}/dead-letters/${id}/retry`, { token: ctx.operator });
  assert.is(retried.status, 200, retried.text);
  assert.equal(await docs(ctx, statesIndex(m)), { n2: { size: 'five' } });
  const state = await call('GET', `${ctx.server.api}/events/stateful/${bad.body.batch}`, { token: ctx.agent });
  assert.is(state.body.state, 'indexed');
});

stateful('a state nested to the server limit (64 levels) is indexed, not dead-lettered (OpenSearch maps 20 by default)', async (ctx) => {
  let doc: Record<string, unknown> = { leaf: 'x' };
  for (let i = 0; i < 63; i++) doc = { n: doc };
  // journaled at once, then the batch's own state says what the indexer answered (no wait window to miss)
  const r = await post(ctx, [AGENT_LINE, { id: 'deep-1', module: ctx.module, operation: 'create' }, doc], '?wait=0');
  assert.is(r.status, 202, r.text);
  const state = await eventually(
    () => call('GET', `${ctx.server.url}${r.body.status_url}`, { token: ctx.agent }),
    (s) => s.body.state !== 'journaled',
    { ms: 120_000, what: 'the deep batch to be indexed' },
  );
  assert.is(state.body.state, 'indexed', state.text);
  assert.equal(state.body.items.map((i: { id: string; status: number }) => [i.id, i.status]), [['deep-1', 201]]);
  const deeper = await post(ctx, [AGENT_LINE, { id: 'deep-2', module: ctx.module, operation: 'create' }, { n: doc }]);
  assert.is(deeper.status, 400, 'one level more is refused at the door');
});

stateful.run();

const off = suite<{ server: TestServer }>('stateful events without an indexer');
off.before(async (ctx) => {
  ctx.server = await startTestServer({ COMMS_API_ENGINE_SOCKET: '/nonexistent/engine.sock' });
});
off.after(async (ctx) => ctx.server.stop());
off('are answered 202 at once, and the pipeline reports itself off', async (ctx) => {
  await addUser(ctx.server.dataDir, 'ops', 'operator');
  const operator = await login(ctx.server.api, { username: 'ops', password: 'correct horse battery' });
  await call('POST', `${ctx.server.api}/agents`, { token: operator, json: { uuid: 'solo', key: AGENT_KEY } });
  const agent = await login(ctx.server.api, { uuid: 'solo', key: AGENT_KEY });
  const r = await call('POST', `${ctx.server.api}/events/stateful?wait=60`, {
    token: agent,
    body: ndjson([AGENT_LINE, { id: 'a', module: 'm', operation: 'create' }, { x: 1 }]),
    type: 'application/x-ndjson',
  });
  assert.is(r.status, 202);
  const state = await call('GET', `${ctx.server.url}${r.body.status_url}`, { token: agent });
  assert.is(state.body.state, 'journaled');
  const ready = await call('GET', `${ctx.server.api}/ready`);
  assert.is(ready.status, 200);
  assert.is(ready.body.pipelines.indexer.state, 'off');
});
off.run();
