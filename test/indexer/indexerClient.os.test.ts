import { randomBytes } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createIndexerClient, type IndexerClient } from '../../src/indexer/indexerClient.js';
import { statesIndex, TEMPLATES } from '../../src/indexer/templates.js';

const url = process.env.OPENSEARCH_URL;
if (!url) throw new Error('OPENSEARCH_URL is not set: run this file through scripts/test.mjs (it starts OpenSearch)');

interface Ctx {
  indexer: IndexerClient;
  index: string;
}

const line = (v: unknown) => JSON.stringify(v);
const client = suite<Ctx>('indexer client against a real OpenSearch node');

client.before(async (ctx) => {
  ctx.indexer = createIndexerClient({ url });
  ctx.index = statesIndex(`test-${randomBytes(4).toString('hex')}`);
});
client.after(async (ctx) => {
  await ctx.indexer.client.indices.delete({ index: ctx.index, ignore_unavailable: true } as never).catch(() => {});
  await ctx.indexer.close();
});

client('the node is a real OpenSearch and reports itself healthy', async ({ indexer }) => {
  const info = await indexer.client.info();
  assert.is((info.body as { version: { distribution: string } }).version.distribution, 'opensearch');
  const health = await indexer.health();
  assert.is(health.reachable, true);
  assert.ok(['green', 'yellow'].includes(health.status!));
});

client('index templates are applied, and applying them twice changes nothing', async ({ indexer, index }) => {
  const first = await indexer.ensureTemplates();
  const second = await indexer.ensureTemplates();
  assert.ok(first.ok && second.ok);
  const r = await indexer.client.indices.getIndexTemplate({ name: 'comms-*' } as never);
  const names = (r.body as { index_templates: Array<{ name: string }> }).index_templates.map((t) => t.name).sort();
  assert.equal(names, TEMPLATES.map((t) => t.name).sort());
  // a new states index picks the template's settings
  const created = await indexer.bulk([line({ index: { _index: index, _id: 'probe' } }), line({ probe: true })], 'wait_for');
  assert.ok(created.ok);
  const settings = await indexer.client.indices.getSettings({ index } as never);
  const s = (settings.body as Record<string, { settings: { index: { number_of_shards: string; auto_expand_replicas: string; mapping?: { depth?: { limit?: string } } } } }>)[index]!;
  assert.is(s.settings.index.number_of_shards, '1');
  assert.is(s.settings.index.auto_expand_replicas, '0-1');
  // states are taken as deep as the server's JSON nesting limit (OpenSearch's default is 20)
  assert.is(s.settings.index.mapping?.depth?.limit, '64');
});

client('a bulk answers per item: created, updated, deleted, not found and a mapping error', async ({ indexer, index }) => {
  const r = await indexer.bulk(
    [
      line({ index: { _index: index, _id: 'a' } }), line({ size: 1, os: 'linux' }),
      line({ index: { _index: index, _id: 'b' } }), line({ size: 2, os: 'windows' }),
      line({ update: { _index: index, _id: 'a' } }), line({ doc: { size: 10 }, doc_as_upsert: true }),
      line({ delete: { _index: index, _id: 'missing' } }),
      line({ index: { _index: index, _id: 'c' } }), line({ size: 'not a number' }),
    ],
    'wait_for',
  );
  assert.ok(r.ok);
  if (!r.ok) return;
  assert.equal(r.value.map((i) => i.status), [201, 201, 200, 404, 400]);
  assert.equal(r.value.slice(0, 4).map((i) => i.result), ['created', 'created', 'updated', 'not_found']);
  assert.is(r.value[4]!.error!.type, 'mapper_parsing_exception');
});

client('search, a terms aggregation and a query by _seq_no see the documents', async ({ indexer, index }) => {
  await indexer.bulk(
    [line({ index: { _index: index, _id: 'd' } }), line({ size: 3, os: 'linux' }), line({ index: { _index: index, _id: 'e' } }), line({ size: 4, os: 'linux' })],
    'wait_for',
  );
  const search = await indexer.client.search({ index, body: { query: { term: { os: 'linux' } } } } as never);
  const hits = (search.body as { hits: { hits: Array<{ _id: string; _source: { size: number } }> } }).hits.hits;
  assert.equal(hits.map((h) => h._id).sort(), ['a', 'd', 'e']);
  assert.is(hits.find((h) => h._id === 'a')!._source.size, 10);

  const agg = await indexer.client.search({
    index,
    body: { size: 0, aggs: { by_os: { terms: { field: 'os.keyword' } } } },
  } as never);
  const buckets = (agg.body as unknown as { aggregations: { by_os: { buckets: Array<{ key: string; doc_count: number }> } } }).aggregations.by_os.buckets;
  assert.equal(buckets, [
    { key: 'linux', doc_count: 3 },
    { key: 'windows', doc_count: 1 },
  ]);

  const all = await indexer.client.search({ index, body: { seq_no_primary_term: true, sort: [{ _seq_no: 'asc' }], size: 100 } } as never);
  const seqs = (all.body as { hits: { hits: Array<{ _id: string; _seq_no: number }> } }).hits.hits;
  const pivot = seqs.find((h) => h._id === 'd')!._seq_no;
  const after = await indexer.client.search({
    index,
    body: { seq_no_primary_term: true, query: { range: { _seq_no: { gt: pivot } } }, sort: [{ _seq_no: 'asc' }] },
  } as never);
  assert.equal((after.body as { hits: { hits: Array<{ _id: string }> } }).hits.hits.map((h) => h._id), ['e']);
});

client('node stats come back for the one node', async ({ indexer }) => {
  const r = await indexer.client.nodes.stats({ metric: 'jvm,indices' } as never);
  const nodes = Object.values((r.body as { nodes: Record<string, { jvm: { mem: { heap_used_in_bytes: number } }; indices: { docs: { count: number } } }> }).nodes);
  assert.is(nodes.length, 1);
  assert.ok(nodes[0]!.jvm.mem.heap_used_in_bytes > 0);
  assert.ok(nodes[0]!.indices.docs.count >= 4);
});

client('an unreachable indexer is a retryable result, not an exception', async () => {
  const gone = createIndexerClient({ url: 'http://127.0.0.1:9', requestTimeoutMs: 2000 });
  const r = await gone.bulk([line({ index: { _index: 'x', _id: '1' } }), line({ a: 1 })]);
  assert.is(r.ok, false);
  if (!r.ok) assert.is(r.retryable, true);
  assert.is((await gone.health()).reachable, false);
  await gone.close();
});

client.run();
