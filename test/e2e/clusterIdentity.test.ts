import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { adminCall, call } from '../support/client.js';
import { startCluster, type Cluster } from '../support/cluster.js';
import { eventually } from '../support/eventually.js';
import { AGENT_KEY, runCli, spawnServer, tempDir } from '../support/server.js';
import { rmSync } from 'node:fs';
import { join } from 'node:path';

const PASSWORD = 'correct horse battery';

interface Ctx {
  cluster: Cluster;
  /** The first operator, created over node 0's admin socket, and its token from node 0. */
  admin: string;
  adminToken: string;
}

/** The user's audit trail on node i: `type actor` in journal order. */
async function trail(cluster: Cluster, i: number, token: string, subject: string): Promise<string[]> {
  const r = await cluster.call(i, 'GET', `/audit?kind=user&subject=${encodeURIComponent(subject)}&limit=100`, { token });
  assert.is(r.status, 200, r.text);
  return (r.body.items as Array<{ type: string; actor: string }>).map((e) => `${e.type} ${e.actor}`);
}

const loginStatus = async (cluster: Cluster, i: number, username: string, password = PASSWORD) =>
  (await cluster.call(i, 'POST', '/login', { json: { username, password } })).status;

const identity = suite<Ctx>('users and the catalogue on three nodes sharing one OpenSearch');

identity.before(async (ctx) => {
  ctx.cluster = await startCluster({ name: 'identity' });
  ctx.admin = `root-${ctx.cluster.runId}`;
  const created = await ctx.cluster.admin(0, 'POST', '/users', { name: ctx.admin, role: 'operator', password: PASSWORD });
  assert.is(created.status, 201, JSON.stringify(created.body));
  ctx.adminToken = await ctx.cluster.login(0, { username: ctx.admin, password: PASSWORD });
});

identity.after(async (ctx) => {
  await ctx.cluster?.stop();
});

identity('an operator created on A logs in on B at once, and A’s token works on C', async ({ cluster, admin, adminToken }) => {
  const doc = await cluster.osDoc('comms-users', admin);
  assert.ok(doc, 'the user is in the users index before the answer');
  assert.is(doc!.role, 'operator');
  assert.match(doc!.password_hash, /^scrypt\$/);
  assert.is(await loginStatus(cluster, 1, admin, 'wrong password!'), 401);
  const onB = await cluster.login(1, { username: admin, password: PASSWORD });
  assert.is((await cluster.call(1, 'GET', '/users', { token: onB })).status, 200);
  const onC = await cluster.call(2, 'GET', '/users', { token: adminToken });
  assert.is(onC.status, 200, onC.text);
  assert.ok(onC.body.users.some((u: { name: string }) => u.name === admin));
  // the journal rule: A journaled the creation, B and C what they learnt from the index
  assert.equal(await trail(cluster, 0, adminToken, admin), ['UserCreated admin-socket']);
  for (const i of [1, 2]) assert.equal(await trail(cluster, i, adminToken, admin), ['UserCreated indexer']);
});

identity('a user created on B, disabled on A, enabled on C, deleted on B: every node follows within the bound', async ({ cluster, admin, adminToken }) => {
  const name = `alice-${cluster.runId}`;
  const created = await cluster.call(1, 'POST', '/users', { token: adminToken, json: { name, role: 'auditor', password: PASSWORD } });
  assert.is(created.status, 201, created.text);
  const token = await cluster.login(2, { username: name, password: PASSWORD });
  for (const i of [0, 1, 2]) assert.is((await cluster.call(i, 'GET', '/journal/stats', { token })).status, 200, `auditor token on node ${i}`);

  // disabled on A (A has not imported the user yet: it reads the index first)
  const disabled = await cluster.call(0, 'POST', `/users/${name}/disable`, { token: adminToken });
  assert.is(disabled.status, 200, disabled.text);
  assert.is(disabled.body.disabled, true);
  for (const i of [1, 2]) {
    await eventually(() => cluster.call(i, 'GET', '/journal/stats', { token }), (r) => r.status === 401, `node ${i} refusing the disabled user's token`);
    assert.is(await loginStatus(cluster, i, name), 401);
  }
  const enabled = await cluster.call(2, 'POST', `/users/${name}/enable`, { token: adminToken });
  assert.is(enabled.status, 200, enabled.text);
  for (const i of [0, 1]) await eventually(() => loginStatus(cluster, i, name), (s) => s === 200, `node ${i} letting the enabled user log in`);
  const fresh = await cluster.login(1, { username: name, password: PASSWORD });
  assert.is((await cluster.call(0, 'GET', '/journal/stats', { token: fresh })).status, 200);

  const deleted = await cluster.call(1, 'DELETE', `/users/${name}`, { token: adminToken });
  assert.is(deleted.status, 204, deleted.text);
  for (const i of [0, 2]) {
    await eventually(() => cluster.call(i, 'GET', '/journal/stats', { token: fresh }), (r) => r.status === 401, `node ${i} refusing the deleted user's token`);
    assert.is(await loginStatus(cluster, i, name), 401);
    const users = await cluster.call(i, 'GET', '/users', { token: adminToken });
    assert.not.ok(users.body.users.some((u: { name: string }) => u.name === name), `node ${i} lists no deleted user`);
  }
  assert.is((await cluster.call(0, 'POST', `/users/${name}/enable`, { token: adminToken })).status, 404, 'a deleted user is unknown everywhere');
  const tomb = await cluster.osDoc('comms-users', name);
  assert.is(tomb?.deleted, true);

  const by = `user:${admin}`;
  assert.equal(await trail(cluster, 1, adminToken, name), [`UserCreated ${by}`, 'UserDisabled indexer', 'UserEnabled indexer', `UserDeleted ${by}`]);
  assert.equal(await trail(cluster, 0, adminToken, name), ['UserCreated indexer', `UserDisabled ${by}`, 'UserEnabled indexer', 'UserDeleted indexer']);
  assert.equal(await trail(cluster, 2, adminToken, name), ['UserCreated indexer', 'UserDisabled indexer', `UserEnabled ${by}`, 'UserDeleted indexer']);
});

identity('a password reset on A: the new password works on B and C, the old one is refused', async ({ cluster, adminToken }) => {
  const name = `bob-${cluster.runId}`;
  assert.is((await cluster.call(0, 'POST', '/users', { token: adminToken, json: { name, role: 'operator', password: PASSWORD } })).status, 201);
  for (const i of [1, 2]) await cluster.login(i, { username: name, password: PASSWORD });
  const reset = await cluster.call(0, 'POST', '/users', { token: adminToken, json: { name, role: 'auditor', password: 'another long password' } });
  assert.is(reset.status, 201, reset.text);
  for (const i of [1, 2]) {
    await eventually(() => loginStatus(cluster, i, name, 'another long password'), (s) => s === 200, `the new password on node ${i}`);
    assert.is(await loginStatus(cluster, i, name), 401, 'the old password is refused');
  }
});

identity('a user added by the CLI in C’s data folder (C running) is published: it logs in on A', async ({ cluster, adminToken }) => {
  const name = `cli-${cluster.runId}`;
  const added = await runCli(['users', 'add', name, '--role', 'operator'], { COMMS_API_DATA_DIR: cluster.nodes[2]!.dataDir }, PASSWORD);
  assert.is(added.code, 0, added.stdout + added.stderr);
  await eventually(() => loginStatus(cluster, 0, name), (s) => s === 200, 'A letting the CLI-made user log in');
  assert.equal(await trail(cluster, 2, adminToken, name), ['UserCreated cli']);
  assert.equal(await trail(cluster, 0, adminToken, name), ['UserCreated indexer']);
  // a password reset by the CLI after the index's version wins too
  const reset = await runCli(['users', 'add', name, '--role', 'operator'], { COMMS_API_DATA_DIR: cluster.nodes[2]!.dataDir }, 'a newer long password');
  assert.is(reset.code, 0, reset.stdout + reset.stderr);
  await eventually(() => loginStatus(cluster, 1, name, 'a newer long password'), (s) => s === 200, 'B taking the reset password');
  await eventually(() => loginStatus(cluster, 0, name), (s) => s === 401, 'A following the reset (the old password refused)');
});

identity('an API key created on A works on B at once; revoked on C, it is refused everywhere', async ({ cluster, admin, adminToken }) => {
  const created = await cluster.call(0, 'POST', '/api-keys', { token: adminToken, json: { name: 'ci', role: 'auditor' } });
  assert.is(created.status, 201, created.text);
  const { id, key } = created.body as { id: string; key: string };
  const doc = await cluster.osDoc('comms-api-keys', id);
  assert.ok(doc && doc.revoked_at === null, 'in the API keys index before the answer');
  assert.not.ok(JSON.stringify(doc).includes(key), 'the index has the hash, never the key');
  assert.is((await cluster.call(1, 'GET', '/journal/stats', { token: key })).status, 200, 'B imports the key at its first use');
  const wrong = key.slice(0, -1) + (key.endsWith('A') ? 'B' : 'A');
  assert.is((await cluster.call(1, 'GET', '/journal/stats', { token: wrong })).status, 401);
  const listed = await eventually(
    () => cluster.call(2, 'GET', '/api-keys', { token: adminToken }),
    (r) => r.body?.api_keys?.some((k: { id: string }) => k.id === id),
    'C following the API keys index',
  );
  assert.is(listed.body.api_keys.find((k: { id: string }) => k.id === id).created_by, `user:${admin}`, 'the creator, not the follower');

  assert.is((await cluster.call(2, 'DELETE', `/api-keys/${id}`, { token: adminToken })).status, 204);
  for (const i of [0, 1]) await eventually(() => cluster.call(i, 'GET', '/journal/stats', { token: key }), (r) => r.status === 401, `node ${i} refusing the revoked key`);
  assert.is((await cluster.call(1, 'DELETE', `/api-keys/${id}`, { token: adminToken })).status, 204, 'revoking again changes nothing');
  const trailOf = async (i: number) => {
    const r = await cluster.call(i, 'GET', `/audit?kind=api-key&subject=${id}&limit=10`, { token: adminToken });
    return (r.body.items as Array<{ type: string; actor: string }>).map((e) => `${e.type} ${e.actor}`);
  };
  assert.equal(await trailOf(0), [`ApiKeyCreated user:${admin}`, 'ApiKeyRevoked indexer']);
  assert.equal(await trailOf(2), ['ApiKeyCreated indexer', `ApiKeyRevoked user:${admin}`]);
});

identity('a catalogue entry put on A is valid on B at once and on C; a changed definition reaches every node', async ({ cluster, adminToken }) => {
  const action = `probe-${cluster.runId}`;
  const agent = `agent-${cluster.runId}`;
  assert.is((await cluster.admin(1, 'POST', '/agents', { uuid: agent, key: AGENT_KEY })).status, 201);
  const put = await cluster.call(0, 'PUT', `/catalog/${action}`, {
    token: adminToken,
    json: { description: 'probe a port', args: { type: 'object', properties: { port: { type: 'integer' } }, required: ['port'], additionalProperties: false }, default_timeout: 60, target_types: ['agent'] },
  });
  assert.is(put.status, 201, put.text);
  const doc = await cluster.osDoc('comms-catalog', action);
  assert.is(doc?.default_timeout, 60, 'in the catalogue index before the answer');

  const issue = (i: number, args: Record<string, unknown>) =>
    cluster.call(i, 'POST', '/commands', { token: adminToken, json: { action: { name: action, args }, target: { type: 'agent', id: agent } } });
  const onB = await issue(1, { port: 22 });
  assert.is(onB.status, 201, onB.text);
  assert.is((await issue(1, { port: 'x' })).status, 400, 'the args schema from A applies on B');
  await eventually(() => cluster.call(2, 'GET', `/catalog/${action}`, { token: adminToken }), (r) => r.status === 200, 'C following the catalogue index');

  const changed = await cluster.call(2, 'PUT', `/catalog/${action}`, {
    token: adminToken,
    json: { description: 'probe a host', args: { type: 'object', properties: { host: { type: 'string' } }, required: ['host'], additionalProperties: false }, default_timeout: 120, target_types: ['agent'] },
  });
  assert.is(changed.status, 200, changed.text);
  for (const i of [0, 1]) {
    const seen = await eventually(() => cluster.call(i, 'GET', `/catalog/${action}`, { token: adminToken }), (r) => r.body?.default_timeout === 120, `the new definition on node ${i}`);
    assert.is(seen.body.description, 'probe a host');
  }
  assert.is((await issue(1, { port: 22 })).status, 400, 'the old args are refused on B');
  assert.is((await issue(0, { host: 'db' })).status, 201);
  const bad = await cluster.call(0, 'PUT', `/catalog/${action}`, { token: adminToken, json: { description: 'x', args: { type: 'nope' }, default_timeout: 1, target_types: ['agent'] } });
  assert.is(bad.status, 400, bad.text);
  assert.is((await cluster.osDoc('comms-catalog', action))?.default_timeout, 120, 'bad input writes nothing to the index');
});

identity.run();

const unreachable = suite<{ dataDir: string; stop?: () => Promise<unknown> }>('a node whose indexer cannot be reached');

unreachable('refuses user and catalogue changes with 503 and journals none of them', async (ctx) => {
  ctx.dataDir = tempDir('comms-api-identity-down-');
  const server = await spawnServer(ctx.dataDir, { COMMS_API_INDEXER_URL: 'http://127.0.0.1:9' });
  ctx.stop = () => server.kill('SIGTERM');
  const socket = join(ctx.dataDir, 'admin.sock');
  const user = await adminCall(socket, 'POST', '/users', { name: 'carol', role: 'operator', password: PASSWORD });
  assert.is(user.status, 503, JSON.stringify(user.body));
  assert.is(user.body.status, 503);
  const listed = await adminCall(socket, 'GET', '/users');
  assert.equal(listed.body.users, []);
  const entry = await adminCall(socket, 'PUT', '/catalog/noop', { description: 'x', args: {}, default_timeout: 5, target_types: ['agent'] });
  assert.is(entry.status, 503);
  assert.is((await adminCall(socket, 'GET', '/catalog/noop')).status, 404);
  const login = await call('POST', `${server.api}/login`, { json: { username: 'carol', password: PASSWORD } });
  assert.is(login.status, 503, 'an unknown user cannot be looked up: try again');
  assert.is(login.headers.get('content-type'), 'application/problem+json');
});

unreachable.after(async (ctx) => {
  await ctx.stop?.();
  rmSync(ctx.dataDir, { recursive: true, force: true });
});

unreachable.run();
