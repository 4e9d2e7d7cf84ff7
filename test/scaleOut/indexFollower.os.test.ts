import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { z } from 'zod';
import { openJournal, type Journal } from '../../src/journal/journal.js';
import { createProjections } from '../../src/projections/index.js';
import { createFollowerPositions } from '../../src/journal/followerPositions.js';
import { createIndexFollower, type IndexFollower } from '../../src/scaleOut/indexFollower.js';
import { createIndexReader } from '../../src/indexer/indexedDocs.js';
import { createIndexerClient, type IndexerClient } from '../../src/indexer/indexerClient.js';
import { startOpenSearch, type OpenSearchNode } from '../support/opensearch/node.js';
import { tempDir } from '../support/server.js';
import { eventually } from '../support/eventually.js';

/** Waits (bounded) until `check` holds: the follower works in the background. */
const until = (check: () => boolean, what = 'the follower') => eventually(check, Boolean, { what, ms: 20_000, everyMs: 50 });

const Doc = z.object({ n: z.number() });
type Doc = z.infer<typeof Doc>;

interface Ctx {
  os?: OpenSearchNode;
  client: IndexerClient;
  index: string;
  dir: string;
  journal: Journal;
  followers: IndexFollower[];
}

const follow = suite<Ctx>('following an index by sequence number (real OpenSearch)');

follow.before(async (ctx) => {
  let url = process.env.OPENSEARCH_URL;
  if (!url) {
    ctx.os = await startOpenSearch({ painless: false, javaOpts: '-Xms512m -Xmx512m' });
    url = ctx.os.url;
  }
  ctx.client = createIndexerClient({ url });
});
follow.after(async (ctx) => {
  await ctx.client.close();
  await ctx.os?.stop();
});
follow.before.each((ctx) => {
  ctx.index = `follow-test-${randomBytes(4).toString('hex')}`;
  ctx.dir = tempDir('comms-api-follower-');
  ctx.journal = openJournal({ projections: createProjections, dataDir: ctx.dir, quotaBytes: 1 << 30 });
  ctx.followers = [];
});
follow.after.each(async (ctx) => {
  for (const f of ctx.followers) f.stop();
  await ctx.client.client.indices.delete({ index: ctx.index, ignore_unavailable: true } as never).catch(() => {});
  await ctx.journal.close();
  rmSync(ctx.dir, { recursive: true, force: true });
});

async function put(ctx: Ctx, docs: Array<[string, number]>): Promise<void> {
  const lines = docs.flatMap(([id, n]) => [JSON.stringify({ index: { _index: ctx.index, _id: id } }), JSON.stringify({ n })]);
  const r = await ctx.client.bulk(lines, 'wait_for');
  assert.ok(r.ok && r.value.every((i) => i.status < 300), JSON.stringify(r));
}

function start(ctx: Ctx, seen: Doc[], active = () => true, opts: { settleMs?: number; onSearch?: () => void } = {}): IndexFollower {
  const reader = createIndexReader(ctx.client);
  const f = createIndexFollower<Doc>({
    name: `test:${ctx.index}`,
    changedAfter: (after, size) => {
      opts.onSearch?.();
      return reader.changedAfter(ctx.index, after, size, Doc);
    },
    apply: async (docs) => void seen.push(...docs),
    positions: createFollowerPositions(ctx.journal.db),
    commit: ctx.journal.commit,
    active,
    intervalMs: 20,
    pageSize: 3,
    settleMs: opts.settleMs ?? 0,
    onError: (err) => assert.unreachable(String(err)),
  });
  f.run$.subscribe();
  ctx.followers.push(f);
  return f;
}

follow('changed documents arrive in sequence order, page after page; an update arrives again', async (ctx) => {
  await put(ctx, [['a', 1], ['b', 2], ['c', 3], ['d', 4], ['e', 5], ['f', 6], ['g', 7]]);
  const seen: Doc[] = [];
  const f = start(ctx, seen);
  await until(() => seen.length >= 7);
  assert.equal(seen.map((d) => d.n), [1, 2, 3, 4, 5, 6, 7]);
  await put(ctx, [['b', 20]]);
  await until(() => seen.length >= 8);
  assert.equal(seen.slice(7).map((d) => d.n), [20]);
  await until(() => f.status().settled === f.status().seen);
  assert.is(f.status().seen, 7, 'eight writes: sequence numbers 0 to 7');
});

follow('a new follower resumes after the persisted position; an inactive one reads nothing', async (ctx) => {
  await put(ctx, [['a', 1], ['b', 2]]);
  const first: Doc[] = [];
  const f = start(ctx, first);
  await until(() => first.length === 2 && f.status().settled === 1);
  f.stop();
  await put(ctx, [['c', 3]]);
  const idle: Doc[] = [];
  let asked = 0;
  start(ctx, idle, () => (asked += 1) < 0);
  await until(() => asked >= 3);
  assert.equal(idle, [], 'inactive: no search');
  const resumed: Doc[] = [];
  start(ctx, resumed);
  await until(() => resumed.length >= 1);
  assert.equal(resumed.map((d) => d.n), [3]);
});

follow('documents in the re-read window are read again but applied once; the position waits for the window', async (ctx) => {
  await put(ctx, [['a', 1], ['b', 2], ['c', 3], ['d', 4]]);
  const seen: Doc[] = [];
  let searches = 0;
  const f = start(ctx, seen, () => true, { settleMs: 60_000, onSearch: () => (searches += 1) });
  await until(() => f.status().seen === 3);
  const after = searches;
  await until(() => searches >= after + 10, 'ten more searches');
  assert.equal(seen.map((d) => d.n), [1, 2, 3, 4]);
  assert.is(f.status().settled, -1, 'nothing settled within the window');
});

follow.run();
