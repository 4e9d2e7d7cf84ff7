import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createIndexerClient, type IndexerClient } from '../../src/indexer/indexerClient.js';
import { statesIndex } from '../../src/indexer/templates.js';
import { call, login } from '../support/client.js';
import { startEngine, type EngineHandle } from '../support/engine/engine.js';
import { startOpenSearch, type OpenSearchNode } from '../support/opensearch/node.js';
import { AGENT_KEY, addUser, runCli, spawnServer, tempDir, type ServerProcess } from '../support/server.js';
import { eventually } from '../support/eventually.js';

/**
 * Guarantee: an event in the journal reaches the engine and the indexer however long they are
 * down, and whatever happens to the server (kill -9) while it drains.
 */
interface World {
  dataDir: string;
  engine: EngineHandle;
  server: ServerProcess;
  agent: string;
  operator: string;
  module: string;
  /** What the states index must hold in the end: id → document. */
  expected: Map<string, Record<string, unknown>>;
  lines: string[];
}

async function boot(w: World, indexerUrl: string): Promise<void> {
  w.dataDir = tempDir();
  w.engine = await startEngine();
  w.module = `drain-${randomBytes(4).toString('hex')}`;
  w.expected = new Map();
  w.lines = [];
  const env = { COMMS_API_DATA_DIR: w.dataDir };
  assert.is((await runCli(['init'], env)).code, 0);
  assert.is((await runCli(['agents', 'add', '--uuid', 'd-1', '--key', AGENT_KEY], env)).code, 0);
  await addUser(w.dataDir, 'ops', 'operator');
  await start(w, indexerUrl);
}
async function start(w: World, indexerUrl: string): Promise<void> {
  w.server = await spawnServer(w.dataDir, { COMMS_API_ENGINE_SOCKET: w.engine.socket, COMMS_API_INDEXER_URL: indexerUrl });
  w.agent = await login(w.server.api, { uuid: 'd-1', key: AGENT_KEY });
  w.operator = await login(w.server.api, { username: 'ops', password: 'correct horse battery' });
}

let n = 0;
/** One stateful batch: creates new items, updates and deletes some earlier ones; `expected` follows. */
async function statefulBatch(w: World): Promise<void> {
  const lines: string[] = [JSON.stringify({ agent: { name: 'drain' } })];
  for (let i = 0; i < 8; i++) {
    const id = `item-${++n}`;
    const doc = { name: id, version: 1 };
    lines.push(JSON.stringify({ id, module: w.module, operation: 'create' }), JSON.stringify(doc));
    w.expected.set(id, doc);
  }
  const earlier = [...w.expected.keys()].slice(-12, -9);
  for (const [k, id] of earlier.entries()) {
    if (k === 0) {
      lines.push(JSON.stringify({ id, module: w.module, operation: 'delete' }));
      w.expected.delete(id);
    } else {
      lines.push(JSON.stringify({ id, module: w.module, operation: 'update' }), JSON.stringify({ version: 2 }));
      w.expected.set(id, { ...w.expected.get(id)!, version: 2 });
    }
  }
  const r = await call('POST', `${w.server.api}/events/stateful?wait=0`, { token: w.agent, body: `${lines.join('\n')}\n`, type: 'application/x-ndjson' });
  assert.is(r.status, 202, r.text);
}

async function statelessBatch(w: World): Promise<void> {
  const lines = Array.from({ length: 5 }, () => `{"k":${++n}, "text":"drain ✓"}`);
  const body = `{"agent":{"name":"drain"}}\n${lines.map((l) => `{"module":"m","collector":"c"}\n${l}\n`).join('')}`;
  const r = await call('POST', `${w.server.api}/events/stateless`, { token: w.agent, body, type: 'application/x-ndjson' });
  assert.is(r.status, 202, r.text);
  w.lines.push(...lines);
}

async function statesDocs(indexer: IndexerClient, module: string): Promise<Map<string, unknown>> {
  const index = statesIndex(module);
  await indexer.client.indices.refresh({ index } as never);
  const r = await indexer.client.search({ index, body: { size: 10_000, query: { match_all: {} } } } as never);
  const body = r.body as { hits: { total: { value: number }; hits: Array<{ _id: string; _source: unknown }> } };
  assert.is(body.hits.total.value, body.hits.hits.length);
  // each document names its agent (from the token), left out of the comparisons
  return new Map(
    body.hits.hits.map((h) => {
      const { agent, ...rest } = h._source as { agent?: { id?: string } };
      assert.is(agent?.id, 'd-1', `agent.id of ${h._id}`);
      return [h._id, rest];
    }),
  );
}

async function drained(w: World): Promise<void> {
  await eventually(
    () => call('GET', `${w.server.api}/journal/stats`, { token: w.operator }),
    (s) => s.body.pipelines?.engine?.lag === 0 && s.body.pipelines?.indexer?.lag === 0,
    90_000,
  );
}

/** Every line arrived, in journal order; a redelivery after a crash may repeat some (at least once). */
async function assertEngineComplete(w: World): Promise<void> {
  const got = (await w.engine.received()).map((r) => r.data);
  const firsts = got.filter((l, i) => got.indexOf(l) === i);
  assert.equal(firsts, w.lines);
}

// ---------------------------------------------------------------------------------------------
const restart = suite<World & { os: OpenSearchNode; osDir: string; indexer: IndexerClient }>(
  'OpenSearch stopped and restarted during ingestion',
);
restart.before(async (w) => {
  w.osDir = tempDir('comms-os-');
  w.os = await startOpenSearch({ dataDir: w.osDir, painless: false, javaOpts: '-Xms512m -Xmx512m' });
  w.indexer = createIndexerClient({ url: w.os.url });
  await boot(w, w.os.url);
});
restart.after(async (w) => {
  await w.server?.kill();
  await w.engine?.stop();
  await w.indexer?.close();
  await w.os?.stop();
  rmSync(w.dataDir, { recursive: true, force: true });
  rmSync(w.osDir, { recursive: true, force: true });
});

restart('afterwards the index holds exactly the journal’s stateful items', async (w) => {
  for (let i = 0; i < 5; i++) await statefulBatch(w);
  await w.os.stop();
  for (let i = 0; i < 10; i++) {
    await statefulBatch(w);
    await statelessBatch(w);
  }
  const ready = await call('GET', `${w.server.api}/ready`);
  assert.is(ready.status, 200, 'an indexer outage does not make the node unready');
  assert.ok(ready.body.pipelines.indexer.lag > 0);
  w.os = await startOpenSearch({ port: w.os.port, dataDir: w.osDir, painless: false, javaOpts: '-Xms512m -Xmx512m' });
  for (let i = 0; i < 3; i++) await statefulBatch(w);
  await drained(w);
  const docs = await statesDocs(w.indexer, w.module);
  assert.equal([...docs.keys()].sort(), [...w.expected.keys()].sort());
  for (const [id, doc] of w.expected) assert.equal(docs.get(id), doc, id);
  await assertEngineComplete(w);
});

restart.run();

// ---------------------------------------------------------------------------------------------
const url = process.env.OPENSEARCH_URL;
if (!url) throw new Error('OPENSEARCH_URL is not set: run this file through scripts/test.mjs (it starts OpenSearch)');

const crash = suite<World & { indexer: IndexerClient }>('server SIGKILLed while draining');
crash.before(async (w) => {
  w.indexer = createIndexerClient({ url });
  await boot(w, url);
});
crash.after(async (w) => {
  await w.server?.kill();
  await w.engine?.stop();
  await w.indexer.client.indices.delete({ index: statesIndex(w.module), ignore_unavailable: true } as never).catch(() => {});
  await w.indexer.close();
  rmSync(w.dataDir, { recursive: true, force: true });
});

crash('after a restart both sinks are complete', async (w) => {
  await w.engine.setMode('stall');
  for (let i = 0; i < 20; i++) {
    await statelessBatch(w);
    await statefulBatch(w);
  }
  assert.is(await w.server.kill('SIGKILL'), null);
  await w.engine.setMode('ok');
  await start(w, url);
  await drained(w);
  await assertEngineComplete(w);
  const docs = await statesDocs(w.indexer, w.module);
  assert.equal([...docs.keys()].sort(), [...w.expected.keys()].sort());
  for (const [id, doc] of w.expected) assert.equal(docs.get(id), doc, id);
});

crash.run();
