import { createHash, randomBytes } from 'node:crypto';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startCluster, type Cluster } from '../support/cluster.js';
import { eventually } from '../support/eventually.js';
import { AGENT_KEY } from '../support/server.js';

/**
 * Packages on three nodes sharing one OpenSearch node, as a load balancer spreads an operator's and
 * an agent's requests: uploaded on A, downloaded (whole and by range) from B and C, valid for
 * `upgrade` on B, replaced and deleted on A and followed by the others. Over HTTP only (the admin
 * socket registers the agent and the operator, nothing else).
 */
interface Ctx {
  cluster: Cluster;
  agent: string;
  operator: string;
  /** Agent tokens per node (the key pair is shared: any of them works anywhere). */
  agentToken: string[];
  name: string;
  bytes: Buffer;
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** GET on node i as the agent, the body as bytes. */
async function download(ctx: Ctx, i: number, path: string, headers: Record<string, string> = {}) {
  const r = await fetch(`${ctx.cluster.nodes[i]!.api}${path}`, { headers: { authorization: `Bearer ${ctx.agentToken[i]}`, ...headers } });
  return { status: r.status, headers: r.headers, body: Buffer.from(await r.arrayBuffer()) };
}

async function upload(ctx: Ctx, i: number, name: string, bytes: Buffer) {
  return ctx.cluster.call(i, 'PUT', `/packages/${name}`, { token: ctx.operator, body: bytes, type: 'application/octet-stream' });
}

const packages = suite<Ctx>('packages shared by three nodes through OpenSearch');

packages.before(async (ctx) => {
  ctx.cluster = await startCluster({ nodes: 3, name: 'cluster-packages' });
  const { cluster } = ctx;
  ctx.agent = `cpkg-${cluster.runId}`;
  ctx.name = `agent-${cluster.runId}.deb`;
  // 3.5 MiB: four chunks, the last one short
  ctx.bytes = randomBytes(3 * 1024 * 1024 + 512 * 1024 + 17);
  const registered = await cluster.admin(0, 'POST', '/agents', { uuid: ctx.agent, key: AGENT_KEY, groups: ['cpkg'] });
  assert.is(registered.status, 201, JSON.stringify(registered.body));
  const user = await cluster.admin(0, 'POST', '/users', { name: `olga-${cluster.runId}`, role: 'operator', password: 'a long operator password' });
  assert.ok(user.status === 200 || user.status === 201, JSON.stringify(user.body));
  ctx.operator = await cluster.login(0, { username: `olga-${cluster.runId}`, password: 'a long operator password' });
  ctx.agentToken = [];
  for (let i = 0; i < 3; i++) {
    ctx.agentToken[i] = await eventually(
      () => cluster.call(i, 'POST', '/login', { json: { uuid: ctx.agent, key: AGENT_KEY } }),
      (r) => r.status === 200,
      `the agent registered on A logging in on node ${i}`,
    ).then((r) => r.body.token as string);
  }
});

packages.after(async (ctx) => {
  await ctx.cluster?.stop();
});

packages('uploaded on A: an upgrade naming it is valid on B at once, and B and C serve it whole and by range', async (ctx) => {
  const { cluster, name, bytes } = ctx;
  const put = await upload(ctx, 0, name, bytes);
  assert.is(put.status, 201, put.text);
  assert.equal(put.body, { name, size: bytes.length, sha256: sha256(bytes) });

  // answered only once the name and every chunk are in the index
  const doc = await cluster.osDoc('comms-packages', name);
  assert.is(doc?.sha256, sha256(bytes));
  assert.is(doc?.chunks, 4);
  assert.ok(await cluster.osDoc('comms-package-chunks', `${sha256(bytes)}:3`), 'the last chunk is in the index');

  // B has not followed the index yet, but the command is valid there (the name is looked up)
  const upgrade = await cluster.admin(1, 'POST', '/commands', { action: { name: 'upgrade', args: { package: name } }, target: { type: 'agent', id: ctx.agent } });
  assert.is(upgrade.status, 201, JSON.stringify(upgrade.body));

  const part = await download(ctx, 1, `/upgrade/${name}`, { range: 'bytes=1000-2999999' });
  assert.is(part.status, 206);
  assert.is(part.headers.get('content-range'), `bytes 1000-2999999/${bytes.length}`);
  assert.is(part.headers.get('etag'), `"${sha256(bytes)}"`);
  assert.ok(part.body.equals(bytes.subarray(1000, 3_000_000)), 'the range B serves is those bytes');

  const whole = await download(ctx, 2, `/files?file_name=${name}`);
  assert.is(whole.status, 200);
  assert.is(sha256(whole.body), sha256(bytes), 'C serves the whole package, sha256 intact');
  const tail = await download(ctx, 2, `/upgrade/${name}`, { range: 'bytes=-100' });
  assert.is(tail.status, 206);
  assert.ok(tail.body.equals(bytes.subarray(bytes.length - 100)));
  const cached = await download(ctx, 2, `/upgrade/${name}`, { 'if-none-match': `"${sha256(bytes)}"` });
  assert.is(cached.status, 304);
  const past = await download(ctx, 1, `/upgrade/${name}`, { range: `bytes=${bytes.length}-` });
  assert.is(past.status, 416);

  // every node lists it, and its journal says it learnt it from the index
  for (const i of [1, 2]) {
    const list = await eventually(() => cluster.admin(i, 'GET', '/packages'), (r) => r.body.packages.some((p: { name: string }) => p.name === name), `node ${i} listing the package`);
    assert.is(list.body.packages.find((p: { name: string }) => p.name === name).sha256, sha256(bytes));
    const audit = await cluster.admin(i, 'GET', `/audit?kind=package&subject=${name}`);
    assert.equal(audit.body.items.map((it: { type: string; actor: string }) => `${it.type} ${it.actor}`), ['PackageUploaded indexer']);
  }
});

packages('replaced on A: B serves the new content; deleted on A: B and C answer 404 and refuse an upgrade naming it', async (ctx) => {
  const { cluster, name } = ctx;
  const next = randomBytes(200_000);
  const put = await upload(ctx, 0, name, next);
  assert.is(put.status, 200, put.text);
  const fresh = await eventually(() => download(ctx, 1, `/upgrade/${name}`), (r) => r.headers.get('etag') === `"${sha256(next)}"`, 'B serving the replacement');
  assert.is(sha256(fresh.body), sha256(next));

  const deleted = await cluster.call(0, 'DELETE', `/packages/${name}`, { token: ctx.operator });
  assert.is(deleted.status, 204, deleted.text);
  assert.is((await cluster.osDoc('comms-packages', name))?.deleted, true, 'a tombstone the other nodes follow');
  for (const i of [1, 2]) {
    await eventually(() => download(ctx, i, `/upgrade/${name}`), (r) => r.status === 404, `node ${i} forgetting the package`);
    const refused = await cluster.admin(i, 'POST', '/commands', { action: { name: 'upgrade', args: { package: name } }, target: { type: 'agent', id: ctx.agent } });
    assert.is(refused.status, 400, JSON.stringify(refused.body));
    const audit = await cluster.admin(i, 'GET', `/audit?kind=package&subject=${name}`);
    assert.equal(audit.body.items.at(-1).type, 'PackageDeleted');
    assert.equal(audit.body.items.at(-1).actor, 'indexer');
  }
  // no name points at the content any more: its chunks are gone from the index too
  await eventually(() => cluster.osDoc('comms-package-chunks', `${sha256(next)}:0`), (d) => d === undefined, 'the chunks removed');
});

packages.run();
