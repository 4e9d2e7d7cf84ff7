import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { cpSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createIndexerClient, type IndexerClient } from '../../src/indexer/indexerClient.js';
import { HEADS_INDEX } from '../../src/indexer/templates.js';
import { call, login, statelessBatch } from '../support/client.js';
import { startOpenSearch, type OpenSearchNode } from '../support/opensearch/node.js';
import { AGENT_KEY, runCli, spawnServer, tempDir } from '../support/server.js';
import { eventually } from '../support/eventually.js';

interface Ctx {
  os?: OpenSearchNode;
  url: string;
  client: IndexerClient;
  dir: string;
  base: string;
  node: string;
}
const anchored = suite<Ctx>('signed heads anchored in the indexer (real OpenSearch)');
const json = (s: string) => JSON.parse(s);

anchored.before(async (ctx) => {
  try {
    await setUp(ctx);
  } catch (err) {
    console.error('set-up failed:', err);
    throw err;
  }
});

async function setUp(ctx: Ctx): Promise<void> {
  let url = process.env.OPENSEARCH_URL;
  if (!url) {
    ctx.os = await startOpenSearch({ painless: false, javaOpts: '-Xms512m -Xmx512m' });
    url = ctx.os.url;
  }
  ctx.url = url;
  ctx.client = createIndexerClient({ url });
  ctx.node = `heads-test-${randomBytes(4).toString('hex')}`;
  ctx.dir = tempDir('comms-api-heads-');
  ctx.base = tempDir('comms-api-heads-copies-');
  const env = { COMMS_API_DATA_DIR: ctx.dir, COMMS_API_NODE_ID: ctx.node };
  assert.is((await runCli(['init'], env)).code, 0);
  assert.is((await runCli(['agents', 'add', '--uuid', 'h-1', '--key', AGENT_KEY], env)).code, 0);
  const server = await spawnServer(ctx.dir, { COMMS_API_NODE_ID: ctx.node, COMMS_API_INDEXER_URL: url, COMMS_API_HEADS_EVERY_ENTRIES: '2' });
  try {
    const token = await login(server.api, { uuid: 'h-1', key: AGENT_KEY });
    for (let i = 0; i < 4; i++) {
      assert.is((await call('POST', `${server.api}/events/stateless`, { token, body: statelessBatch(2), type: 'application/x-ndjson' })).status, 202);
    }
    // heads are indexed as they are signed (every 2 entries here), not only at the stop
    await eventually(
      async () => {
        await ctx.client.client.indices.refresh({ index: HEADS_INDEX, ignore_unavailable: true } as never);
        const r = await ctx.client.client.count({ index: HEADS_INDEX, body: { query: { term: { node: ctx.node } } } } as never).catch(() => null);
        return (r?.body as { count?: number } | undefined)?.count ?? 0;
      },
      (n) => n >= 3,
      30_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${server.output()}`);
    });
  } finally {
    assert.is(await server.kill(), 0);
  }
}
anchored.after(async (ctx) => {
  await ctx.client.close();
  await ctx.os?.stop();
  rmSync(ctx.dir, { recursive: true, force: true });
  rmSync(ctx.base, { recursive: true, force: true });
});

const verify = (ctx: Ctx, dir: string, extra: string[] = []) =>
  runCli(['journal', 'verify', '--against-indexer', ...extra], { COMMS_API_DATA_DIR: dir, COMMS_API_INDEXER_URL: ctx.url });

anchored('one document per node and head, and the journal verifies against them', async (ctx) => {
  const doc = await ctx.client.client.get({ index: HEADS_INDEX, id: `${ctx.node}:1` } as never);
  const source = (doc.body as { _source: Record<string, unknown> })._source;
  assert.is(source.node, ctx.node);
  assert.is(source.n, 1);
  assert.match(String(source.public_key), /BEGIN PUBLIC KEY/);
  const r = await verify(ctx, ctx.dir);
  assert.is(r.code, 0, r.stdout + r.stderr);
  const v = json(r.stdout);
  assert.is(v.indexer.ok, true);
  assert.ok(v.indexer.heads >= 3);
  assert.is(v.indexer.heads, v.signed_heads, 'every local head reached the index (the last one at the stop)');
});

anchored('a tail removed with its local signed heads is still found', async (ctx) => {
  const dir = join(ctx.base, 'truncated');
  cpSync(ctx.dir, dir, { recursive: true });
  const db = new Database(join(dir, 'comms.db'));
  const head = db.prepare('SELECT max(seq) FROM journal').pluck().get() as number;
  db.prepare('DELETE FROM journal WHERE seq > ?').run(head - 3);
  db.prepare('DELETE FROM signed_heads WHERE seq > ?').run(head - 3);
  db.close();
  assert.is((await runCli(['journal', 'verify'], { COMMS_API_DATA_DIR: dir })).code, 0, 'the local heads alone cannot tell');
  const r = await verify(ctx, dir);
  assert.is(r.code, 1);
  assert.match(json(r.stdout).reason, /indexer head \d+ signed seq/);
});

anchored('a whole data folder replaced (database and keys) is found', async (ctx) => {
  const forged = join(ctx.base, 'forged');
  const env = { COMMS_API_DATA_DIR: forged, COMMS_API_NODE_ID: ctx.node };
  assert.is((await runCli(['init'], env)).code, 0);
  assert.is((await runCli(['agents', 'add', '--uuid', 'h-1', '--key', AGENT_KEY], env)).code, 0);
  writeFileSync(join(forged, 'keys', 'node-id'), `${ctx.node}\n`);
  assert.is((await runCli(['journal', 'verify'], { COMMS_API_DATA_DIR: forged })).code, 0, 'consistent on its own');
  const r = await verify(ctx, forged);
  assert.is(r.code, 1);
  assert.match(json(r.stdout).reason, /signed by key .* data folder's key is/);
  const other = await verify(ctx, forged, ['--node', `never-seen-${randomBytes(3).toString('hex')}`]);
  assert.is(other.code, 1);
  assert.match(json(other.stdout).indexer.reason, /holds no signed head of node/);
});

anchored.run();
