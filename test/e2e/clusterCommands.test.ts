import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startCluster, type Cluster } from '../support/cluster.js';
import { eventually } from '../support/eventually.js';
import { AGENT_KEY } from '../support/server.js';
import { commandsOf, type SseStream } from '../support/sse.js';

/**
 * Commands on three nodes sharing one OpenSearch node: a 201 means the commands index has the
 * command (a node killed right after answering cannot keep it from an agent elsewhere), a refusal
 * of the index is a 503 and the command never goes out, and agents whose node is killed reconnect
 * elsewhere and get every open command once. Over HTTP/SSE (the admin socket only registers agents).
 */
interface Ctx {
  cluster: Cluster;
  run: string;
}

const restart = (agent: string) => ({ action: { name: 'restart', args: {} }, target: { type: 'agent', id: agent } });

/** Registers the agent on A, and waits until A's pipeline has mirrored it (other nodes find it in the agents index). */
async function register(ctx: Ctx, uuid: string, groups: string[] = []): Promise<void> {
  const r = await ctx.cluster.admin(0, 'POST', '/agents', { uuid, key: AGENT_KEY, groups });
  assert.is(r.status, 201, JSON.stringify(r.body));
  await eventually(() => ctx.cluster.osDoc('comms-agents', uuid), (d) => d?.key_hash !== undefined, `agent ${uuid} in the agents index`);
}

/** Waits until a search of the agents index finds the group's `n` members (searches see documents after a refresh). */
async function searchable(ctx: Ctx, group: string, n: number): Promise<void> {
  const count = async () => {
    const r = await fetch(`${ctx.cluster.osUrl}/comms-agents/_count`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: { term: { groups: group } } }) });
    return ((await r.json()) as { count?: number }).count ?? 0;
  };
  await eventually(count, (c) => c >= n, `the ${n} members of ${group} searchable`);
}

/** The agent logs in on node i and opens its stream there. */
async function streamOn(ctx: Ctx, i: number, uuid: string): Promise<SseStream> {
  const token = await eventually(
    () => ctx.cluster.call(i, 'POST', '/login', { json: { uuid, key: AGENT_KEY } }),
    (r) => r.status === 200,
    `agent ${uuid} logging in on node ${i}`,
  ).then((r) => r.body.token as string);
  const s = await ctx.cluster.sse(i, '/commands', { token });
  assert.is(s.status, 200);
  return s;
}

const ids = (s: SseStream): string[] => commandsOf(s.events).map((c) => c.id);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const commands = suite<Ctx>('commands on three nodes sharing one OpenSearch node');

commands.before(async (ctx) => {
  ctx.cluster = await startCluster({ nodes: 3, name: 'cluster-commands' });
  ctx.run = ctx.cluster.runId;
});

commands.after(async (ctx) => {
  // never leave the shared commands index blocked for the suites after this one
  await fetch(`${ctx.cluster.osUrl}/comms-commands/_settings`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ 'index.blocks.read_only_allow_delete': null }) }).catch(() => undefined);
  await ctx.cluster?.stop();
});

commands('a 201 states durability "indexed" and every target is in the commands index when it is answered', async (ctx) => {
  const agent = `ccmd-a-${ctx.run}`;
  await register(ctx, agent);
  const issued = await ctx.cluster.admin(1, 'POST', '/commands', restart(agent));
  assert.is(issued.status, 201, JSON.stringify(issued.body));
  assert.is(issued.body.durability, 'indexed');
  const doc = await ctx.cluster.osDoc('comms-commands', `${issued.body.id}:${agent}`);
  assert.is(doc?.state, 'pending', 'the document is there (real-time get) as soon as the answer is');
  assert.is(doc?.issued_by, 'admin-socket');
});

commands('SIGKILL of the issuing node right after its 201: the agent connecting to another node gets the command', async (ctx) => {
  const agent = `ccmd-k-${ctx.run}`;
  await register(ctx, agent);
  // B knows the agent (it logs in there later); C issues and dies at once
  const issued = await ctx.cluster.admin(2, 'POST', '/commands', restart(agent));
  assert.is(issued.status, 201, JSON.stringify(issued.body));
  await ctx.cluster.kill(2, 'SIGKILL');
  const stream = await streamOn(ctx, 1, agent);
  const frame = await stream.next((e) => e.event === 'command', 30_000);
  assert.is(JSON.parse(frame.data).id, issued.body.id);
  await ctx.cluster.restart(2);
});

commands('the commands index refusing: 503 with Retry-After, the command cancelled with the reason, never delivered anywhere', async (ctx) => {
  const here = `ccmd-h-${ctx.run}`;
  const there = `ccmd-t-${ctx.run}`;
  const group = `ccmd-${ctx.run}`;
  await register(ctx, here, [group]);
  await register(ctx, there, [group]);
  await searchable(ctx, group, 2);
  const onA = await streamOn(ctx, 0, here);
  const onB = await streamOn(ctx, 1, there);
  // B must know the group's members are connected there before the command would arrive
  await sleep(500);
  // The run's suites use the OpenSearch node one after the other: the block is lifted in a finally (and in `after`).
  const settings = (value: boolean | null) =>
    fetch(`${ctx.cluster.osUrl}/comms-commands/_settings`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ 'index.blocks.read_only_allow_delete': value }) });
  assert.is((await settings(true)).status, 200);
  let refused: Awaited<ReturnType<Cluster['call']>> & { body: any };
  try {
    const operator = `ccmd-op-${ctx.run}`;
    const user = await ctx.cluster.admin(0, 'POST', '/users', { name: operator, role: 'operator', password: 'a long operator password' });
    assert.ok(user.status === 200 || user.status === 201, JSON.stringify(user.body));
    const token = await ctx.cluster.login(0, { username: operator, password: 'a long operator password' });
    refused = await ctx.cluster.call(0, 'POST', '/commands', { token, json: { action: { name: 'restart', args: {} }, target: { type: 'group', id: group } } });
  } finally {
    assert.is((await settings(null)).status, 200);
  }
  assert.is(refused.status, 503, refused.text);
  assert.is(refused.headers.get('content-type'), 'application/problem+json');
  assert.ok(Number(refused.headers.get('retry-after')) > 0);
  const id = refused.body.command as string;
  assert.type(id, 'string');
  const details = await ctx.cluster.admin(0, 'GET', `/commands/${id}`);
  assert.is(details.status, 200);
  assert.equal(details.body.targets.map((t: { state: string }) => t.state), ['cancelled', 'cancelled']);
  assert.match(details.body.targets[0].message, /not taken within/);
  // once the index takes writes again, A's pipeline mirrors the cancellation: no node ever offers it
  await eventually(() => ctx.cluster.osDoc('comms-commands', `${id}:${there}`), (d) => d?.state === 'cancelled', 'the cancellation in the index');
  await sleep(3000);
  assert.not.ok(ids(onA).includes(id), 'not sent on the issuing node');
  assert.not.ok(ids(onB).includes(id), 'not sent on another node');
  onA.close();
  onB.close();
});

commands('a node killed with SIGKILL while agents stream on it: they reconnect elsewhere and get every open command exactly once', async (ctx) => {
  const group = `ccmd-s-${ctx.run}`;
  const agents = [0, 1, 2].map((i) => `ccmd-s${i}-${ctx.run}`);
  for (const a of agents) await register(ctx, a, [group]);
  await searchable(ctx, group, 3);
  const first = await Promise.all(agents.map((a) => streamOn(ctx, 0, a)));
  // three commands issued on B while the agents stream on A
  const issued: string[] = [];
  for (let n = 0; n < 3; n++) {
    const r = await ctx.cluster.admin(1, 'POST', '/commands', { action: { name: 'restart', args: {} }, target: { type: 'group', id: group } });
    assert.is(r.status, 201, JSON.stringify(r.body));
    issued.push(r.body.id);
  }
  for (const s of first) await eventually(() => ids(s), (got) => issued.every((id) => got.includes(id)), 'the commands on the streams of A');
  // the first agent reports on the first command (on A): it is no longer open for it
  const token0 = await ctx.cluster.login(0, { uuid: agents[0]!, key: AGENT_KEY });
  const result = await ctx.cluster.call(0, 'POST', `/commands/${issued[0]}/result`, { token: token0, json: { status: 'success' } });
  assert.is(result.status, 204, result.text);
  await eventually(() => ctx.cluster.osDoc('comms-commands', `${issued[0]}:${agents[0]}`), (d) => d?.state === 'success', 'the result in the index');

  await ctx.cluster.kill(0, 'SIGKILL');
  // one more while A is dead, issued on C
  const late = await ctx.cluster.admin(2, 'POST', '/commands', { action: { name: 'restart', args: {} }, target: { type: 'group', id: group } });
  assert.is(late.status, 201, JSON.stringify(late.body));
  issued.push(late.body.id);

  // the load balancer sends them to B and C
  const again = await Promise.all(agents.map((a, i) => streamOn(ctx, i === 2 ? 2 : 1, a)));
  const expected = agents.map((_, i) => (i === 0 ? issued.slice(1) : issued));
  for (const [i, s] of again.entries()) {
    await eventually(() => ids(s), (got) => expected[i]!.every((id) => got.includes(id)), { what: `every open command on agent ${i}'s new stream`, ms: 60_000 });
  }
  await sleep(3000); // followers and imports that could repeat one have had their chance
  for (const [i, s] of again.entries()) {
    assert.equal([...ids(s)].sort(), [...expected[i]!].sort(), `agent ${i}: each open command exactly once, nothing else`);
  }
  await ctx.cluster.restart(0);
});

commands.run();
