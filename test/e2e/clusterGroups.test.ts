import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startCluster, type Cluster } from '../support/cluster.js';
import { eventually } from '../support/eventually.js';
import { AGENT_KEY } from '../support/server.js';
import type { SseEvent } from '../support/sse.js';

const PASSWORD = 'correct horse battery';

interface Ctx {
  cluster: Cluster;
  token: string;
  /** The ETag of `{}`: that of a group without configuration. */
  emptyEtag: string;
}

const groupPath = (group: string) => `/groups/${group}/configuration`;

function putConfig(ctx: Ctx, i: number, group: string, configuration: Record<string, unknown>, ifMatch: string) {
  return ctx.cluster.call(i, 'PUT', groupPath(group), { token: ctx.token, json: configuration, headers: { 'if-match': ifMatch } });
}

/** GET /groups/{g}/configuration on node i: the ETag and the configuration. */
async function getConfig(ctx: Ctx, i: number, group: string): Promise<{ etag: string | null; configuration: unknown }> {
  const r = await ctx.cluster.call(i, 'GET', groupPath(group), { token: ctx.token });
  assert.is(r.status, 200, r.text);
  return { etag: r.headers.get('etag'), configuration: r.body };
}

const configOf = (e: SseEvent) => JSON.parse(e.data) as { etag: string; configuration: Record<string, unknown> };

const groups = suite<Ctx>('group configurations on three nodes sharing one OpenSearch');

groups.before(async (ctx) => {
  ctx.cluster = await startCluster({ name: 'groups' });
  const name = `op-${ctx.cluster.runId}`;
  const created = await ctx.cluster.admin(0, 'POST', '/users', { name, role: 'operator', password: PASSWORD });
  assert.is(created.status, 201, JSON.stringify(created.body));
  ctx.token = await ctx.cluster.login(0, { username: name, password: PASSWORD });
  ctx.emptyEtag = (await getConfig(ctx, 0, `none-${ctx.cluster.runId}`)).etag!;
});

groups.after(async (ctx) => {
  await ctx.cluster?.stop();
});

groups('a PUT on B against the version written on A succeeds; a stale If-Match on C gets 412 with the current ETag', async (ctx) => {
  const group = `web-${ctx.cluster.runId}`;
  const first = await putConfig(ctx, 0, group, { log_level: 'info' }, ctx.emptyEtag);
  assert.is(first.status, 200, first.text);
  const v1 = first.headers.get('etag')!;
  const doc = await ctx.cluster.osDoc('comms-groups', group);
  assert.is(doc?.etag, v1, 'in the groups index before the answer');

  const second = await putConfig(ctx, 1, group, { log_level: 'debug' }, v1);
  assert.is(second.status, 200, second.text);
  const v2 = second.headers.get('etag')!;
  assert.is.not(v2, v1);

  const stale = await putConfig(ctx, 2, group, { log_level: 'warn' }, v1);
  assert.is(stale.status, 412, stale.text);
  assert.is(stale.headers.get('etag'), v2, 'the 412 names the current version');
  assert.is(stale.headers.get('content-type'), 'application/problem+json');
  const newGroup = await putConfig(ctx, 2, group, { log_level: 'warn' }, ctx.emptyEtag);
  assert.is(newGroup.status, 412, 'the ETag of {} no longer matches a configured group');

  for (const i of [0, 1, 2]) {
    const seen = await eventually(() => getConfig(ctx, i, group), (c) => c.etag === v2, `version 2 on node ${i}`);
    assert.equal(seen.configuration, { log_level: 'debug' });
  }
  // the journal rule: each node journaled its own change, and what it learnt by indexer
  const trail = async (i: number) => {
    const r = await ctx.cluster.call(i, 'GET', `/audit?kind=configuration&subject=${group}&limit=100`, { token: ctx.token });
    return (r.body.items as Array<{ actor: string }>).map((e) => e.actor);
  };
  const by = `user:op-${ctx.cluster.runId}`;
  assert.equal(await trail(0), [by, 'indexer']);
  assert.equal(await trail(1), ['indexer', by]);
  // C may have followed version 1 before version 2, or only version 2
  const onC = await trail(2);
  assert.ok(onC.length >= 1 && onC.every((a) => a === 'indexer'), JSON.stringify(onC));
});

groups('two PUTs on different nodes against the same version: one wins, the other gets 412', async (ctx) => {
  const group = `race-${ctx.cluster.runId}`;
  const base = await putConfig(ctx, 0, group, { n: 0 }, ctx.emptyEtag);
  assert.is(base.status, 200, base.text);
  const v = base.headers.get('etag')!;
  for (let round = 1; round <= 3; round++) {
    const current = round === 1 ? v : (await eventually(() => getConfig(ctx, 0, group), (c) => c.etag !== null)).etag!;
    const answers = await Promise.all([1, 2].map((i) => putConfig(ctx, i, group, { n: round, by: i }, current)));
    const statuses = answers.map((a) => a.status).sort();
    assert.equal(statuses, [200, 412], `round ${round}: ${answers.map((a) => a.text).join(' | ')}`);
    const winner = answers.find((a) => a.status === 200)!;
    const loser = answers.find((a) => a.status === 412)!;
    assert.is(loser.headers.get('etag'), winner.headers.get('etag'));
    await eventually(() => getConfig(ctx, 0, group), (c) => c.etag === winner.headers.get('etag'), `round ${round} on node 0`);
  }
});

groups('an agent gets the same configuration and ETag from every node, and event: config on B for a change made on A', async (ctx) => {
  const { cluster } = ctx;
  const group = `db-${cluster.runId}`;
  const agent = `cfg-${cluster.runId}`;
  assert.is((await cluster.admin(2, 'POST', '/agents', { uuid: agent, key: AGENT_KEY, groups: [group] })).status, 201);
  await eventually(() => cluster.osDoc('comms-agents', agent), (d) => d?.key_hash !== undefined, 'the agent in the agents index');
  const token = await cluster.login(1, { uuid: agent, key: AGENT_KEY });
  const stream = await cluster.sse(1, '/commands', { token });
  assert.is(stream.status, 200);

  const put = await putConfig(ctx, 0, group, { modules: { fim: { enabled: true } } }, ctx.emptyEtag);
  assert.is(put.status, 200, put.text);
  const pushed = configOf(await stream.next((e) => e.event === 'config', 30_000));
  assert.equal(pushed.configuration, { modules: { fim: { enabled: true } } });

  const answers = [];
  for (const i of [0, 1, 2]) {
    const r = await eventually(
      () => cluster.call(i, 'GET', '/configuration', { token }),
      (a) => a.headers.get('etag') === pushed.etag,
      `the agent's configuration on node ${i}`,
    );
    answers.push(r.body);
  }
  assert.equal(answers[0], answers[1]);
  assert.equal(answers[1], answers[2]);
  const cached = await cluster.call(0, 'GET', '/configuration', { token, headers: { 'if-none-match': pushed.etag } });
  assert.is(cached.status, 304);
});

groups('a set-group issued on A reaches the agent streaming on C as event: config with its new groups’ configuration', async (ctx) => {
  const { cluster } = ctx;
  const from = `from-${cluster.runId}`;
  const to = `to-${cluster.runId}`;
  const agent = `moved-${cluster.runId}`;
  assert.is((await putConfig(ctx, 1, to, { role: 'moved' }, ctx.emptyEtag)).status, 200);
  assert.is((await cluster.admin(1, 'POST', '/agents', { uuid: agent, key: AGENT_KEY, groups: [from] })).status, 201);
  await eventually(() => cluster.osDoc('comms-agents', agent), (d) => d?.key_hash !== undefined, 'the agent in the agents index');
  const token = await cluster.login(2, { uuid: agent, key: AGENT_KEY });
  const stream = await cluster.sse(2, '/commands', { token });
  assert.is(stream.status, 200);

  const moved = await cluster.call(0, 'POST', '/commands', { token: ctx.token, json: { action: { name: 'set-group', args: { groups: [to] } }, target: { type: 'agent', id: agent } } });
  assert.is(moved.status, 201, moved.text);
  const pushed = configOf(await stream.next((e) => e.event === 'config', 30_000));
  assert.equal(pushed.configuration, { role: 'moved' });
  const onC = await cluster.call(2, 'GET', '/configuration', { token });
  assert.is(onC.headers.get('etag'), pushed.etag);
});

groups.run();
