import Database from 'better-sqlite3';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { adminCall, call, login } from '../support/client.js';
import { startOpenSearch, type OpenSearchNode } from '../support/opensearch/node.js';
import { AGENT_KEY, runCli, spawnServer, tempDir, type ServerProcess } from '../support/server.js';
import { commandsOf, openSse, type SseStream } from '../support/sse.js';
import { eventually } from '../support/eventually.js';
import { openJournal } from '../../src/journal/journal.js';
import { hashSecret } from '../../src/security/secrets.js';
import { createProjections } from '../../src/projections/index.js';


/** Polls `probe` every 100 ms until `check` holds; bounded (a failure names what was awaited and the last value). */

/** The agents index document of `uuid`, straight from OpenSearch (real-time get). */
async function agentDoc(osUrl: string, uuid: string): Promise<Record<string, any> | undefined> {
  const r = await fetch(`${osUrl}/comms-agents/_doc/${encodeURIComponent(uuid)}`);
  const body = (await r.json()) as { found?: boolean; _source?: Record<string, any> };
  return body.found ? body._source : undefined;
}

interface Node {
  dataDir: string;
  socket: string;
  server: ServerProcess;
}

interface Ctx {
  osUrl: string;
  os?: OpenSearchNode;
  keysDir: string;
  a: Node;
  b: Node;
  /** Unique per run: the OpenSearch node is shared with the other suites of the run. */
  agent: string;
  streams: SseStream[];
}

async function startNode(ctx: Ctx, name: string): Promise<Node> {
  const dataDir = tempDir(`comms-api-e2e-scale-${name}-`);
  const server = await spawnServer(dataDir, {
    COMMS_API_INDEXER_URL: ctx.osUrl,
    COMMS_API_JWT_PRIVATE_KEY: join(ctx.keysDir, 'jwt-private.pem'),
    COMMS_API_JWT_PUBLIC_KEY: join(ctx.keysDir, 'jwt-public.pem'),
    COMMS_API_AGENT_KEY_SECRET_FILE: join(ctx.keysDir, 'agent-key-secret'),
  });
  return { dataDir, socket: join(dataDir, 'admin.sock'), server };
}

/** Entry types of the node's command history for `command`, in journal order, with their actors. */
async function trail(node: Node, command: string): Promise<string[]> {
  const r = await adminCall(node.socket, 'GET', `/commands/history?limit=100`);
  assert.is(r.status, 200, JSON.stringify(r.body));
  return (r.body.items as Array<{ command: string; type: string; state: string; actor: string }>)
    .filter((i) => i.command === command)
    .map((i) => `${i.type} ${i.state} ${i.actor}`);
}

const scale = suite<Ctx>('two nodes sharing one OpenSearch cluster');

scale.before(async (ctx) => {
  if (process.env.OPENSEARCH_URL) ctx.osUrl = process.env.OPENSEARCH_URL;
  else {
    ctx.os = await startOpenSearch({ javaOpts: '-Xms512m -Xmx512m' });
    ctx.osUrl = ctx.os.url;
  }
  ctx.keysDir = tempDir('comms-api-e2e-scale-keys-');
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  writeFileSync(join(ctx.keysDir, 'jwt-private.pem'), pair.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  writeFileSync(join(ctx.keysDir, 'jwt-public.pem'), pair.publicKey.export({ type: 'spki', format: 'pem' }));
  writeFileSync(join(ctx.keysDir, 'agent-key-secret'), randomBytes(32).toString('base64url'), { mode: 0o600 });
  ctx.agent = `scale-${randomBytes(5).toString('hex')}`;
  ctx.streams = [];
  [ctx.a, ctx.b] = await Promise.all([startNode(ctx, 'a'), startNode(ctx, 'b')]);
});

scale.after(async (ctx) => {
  for (const s of ctx.streams) s.close();
  for (const n of [ctx.a, ctx.b]) {
    await n?.server.kill('SIGTERM');
    if (n) rmSync(n.dataDir, { recursive: true, force: true });
  }
  await ctx.os?.stop();
  rmSync(ctx.keysDir, { recursive: true, force: true });
});

scale('an agent registered on A logs in on B, gets A’s command over B’s stream, and its result reaches A', async (ctx) => {
  const { a, b, agent } = ctx;
  const registered = await adminCall(a.socket, 'POST', '/agents', { uuid: agent, key: AGENT_KEY, groups: ['scale'] });
  assert.is(registered.status, 201, JSON.stringify(registered.body));
  const doc = await eventually(() => agentDoc(ctx.osUrl, agent), (d) => d?.key_hash !== undefined, 'the agent in the agents index');
  assert.match(doc!.key_hash, /^hmac-sha256\$/, 'the index holds the keyed hash B verifies with the shared secret');

  const wrong = await call('POST', `${b.server.api}/login`, { json: { uuid: agent, key: 'x'.repeat(32) } });
  assert.is(wrong.status, 401, wrong.text);
  assert.is(wrong.headers.get('content-type'), 'application/problem+json');
  const token = await login(b.server.api, { uuid: agent, key: AGENT_KEY });
  const onB = await adminCall(b.socket, 'GET', `/agents/${agent}`);
  assert.is(onB.status, 200, 'B now knows the agent');
  assert.equal(onB.body.groups, ['scale']);

  const stream = await openSse(`${b.server.api}/commands`, { token });
  ctx.streams.push(stream);
  assert.is(stream.status, 200);
  const issued = await adminCall(a.socket, 'POST', '/commands', { action: { name: 'restart', args: {} }, target: { type: 'agent', id: agent } });
  assert.is(issued.status, 201, JSON.stringify(issued.body));
  const id = issued.body.id as string;

  const frame = await stream.next((e) => e.event === 'command', 30_000);
  const command = JSON.parse(frame.data);
  assert.is(command.id, id);
  assert.equal(command.action, { name: 'restart', args: {}, version: '1' });
  assert.is(commandsOf(stream.events).length, 1, 'sent once');

  const reported = await call('POST', `${b.server.api}/commands/${id}/result`, { token, json: { status: 'success', code: 0, message: 'restarted' } });
  assert.is(reported.status, 204, reported.text);

  const seenOnA = await eventually(
    () => adminCall(a.socket, 'GET', `/commands/${id}`),
    (r) => r.body?.targets?.[0]?.state === 'success',
    'the success as seen from A',
  );
  assert.is(seenOnA.body.targets[0].message, 'restarted');
  assert.is(seenOnA.body.issued_by, 'admin-socket');

  // each journal is the record of what happened through its node
  assert.equal(await trail(b, id), [
    'CommandImported pending indexer',
    `CommandDelivered delivered agent:${agent}`,
    `CommandSucceeded success agent:${agent}`,
  ]);
  const onA = await trail(a, id);
  assert.is(onA[0], 'CommandIssued pending admin-socket');
  assert.is(onA[onA.length - 1], 'CommandStateObserved success indexer');
  for (const n of [a, b]) {
    const verified = await runCli(['journal', 'verify'], { COMMS_API_DATA_DIR: n.dataDir });
    assert.is(verified.code, 0, verified.stdout + verified.stderr);
    const ready = await call('GET', `${n.server.api}/ready`);
    assert.is(ready.body.followers.commands.failures, 0, ready.text);
    assert.ok(ready.body.followers.commands.seen >= 0, 'the commands follower has read the index');
  }
});

scale('a token issued by A works on B; a result reaches any node, and a long-poll on B gets what A issued', async (ctx) => {
  const { a, b } = ctx;
  const other = `${ctx.agent}-2`;
  assert.is((await adminCall(a.socket, 'POST', '/agents', { uuid: other, key: AGENT_KEY })).status, 201);
  const fromA = await login(a.server.api, { uuid: other, key: AGENT_KEY });
  await eventually(() => agentDoc(ctx.osUrl, other), (d) => d?.key_hash !== undefined, 'the second agent in the agents index');
  const config = await call('GET', `${b.server.api}/configuration`, { token: fromA });
  assert.is(config.status, 200, config.text);
  const taken = await adminCall(b.socket, 'POST', '/agents', { uuid: other, key: AGENT_KEY });
  assert.is(taken.status, 409, 'a uuid registered on A cannot be registered again on B');

  const issue = async () => {
    const r = await adminCall(a.socket, 'POST', '/commands', { action: { name: 'restart', args: {} }, target: { type: 'agent', id: other } });
    assert.is(r.status, 201, JSON.stringify(r.body));
    return r.body.id as string;
  };
  // reported on B, which never offered it: the commands index document is the target check
  const first = await issue();
  const reported = await call('POST', `${b.server.api}/commands/${first}/result`, { token: fromA, json: { status: 'failure', code: 3 } });
  assert.is(reported.status, 204, reported.text);
  const again = await call('POST', `${b.server.api}/commands/${first}/result`, { token: fromA, json: { status: 'success' } });
  assert.is(again.status, 409, again.text);
  const stranger = await call('POST', `${b.server.api}/commands/${first}/result`, {
    token: await login(b.server.api, { uuid: ctx.agent, key: AGENT_KEY }),
    json: { status: 'success' },
  });
  assert.is(stranger.status, 403, stranger.text);

  // issued on A while the agent waits on nowhere; its long-poll on B then gets it
  const second = await issue();
  const polled = await call('GET', `${b.server.api}/commands?wait=20`, { token: fromA });
  assert.is(polled.status, 200, polled.text);
  assert.equal(polled.body.commands.map((c: { id: string }) => c.id), [second]);
  const done = await call('POST', `${b.server.api}/commands/${second}/result`, { token: fromA, json: { status: 'success' } });
  assert.is(done.status, 204, done.text);

  for (const [id, state] of [[first, 'failure'], [second, 'success']] as const) {
    const seen = await eventually(
      () => adminCall(a.socket, 'GET', `/commands/${id}`),
      (r) => r.body?.targets?.[0]?.state === state,
      `${state} of ${id} as seen from A`,
    );
    if (state === 'failure') assert.is(seen.body.targets[0].code, 3);
  }
});

scale('a group command issued on A reaches a member registered on B that A never saw', async (ctx) => {
  const { a, b } = ctx;
  const member = `${ctx.agent}-3`;
  const group = `g-${ctx.agent}`;
  assert.is((await adminCall(b.socket, 'POST', '/agents', { uuid: member, key: AGENT_KEY, groups: [group] })).status, 201);
  const token = await login(b.server.api, { uuid: member, key: AGENT_KEY });
  const stream = await openSse(`${b.server.api}/commands`, { token });
  ctx.streams.push(stream);
  // searches see the agent after a refresh
  await eventually(
    async () => (await fetch(`${ctx.osUrl}/comms-agents/_search?q=groups:${group}`).then((r) => r.json())) as { hits: { hits: unknown[] } },
    (r) => r.hits.hits.length === 1,
    'the member searchable in the agents index',
  );

  const bad = await adminCall(a.socket, 'POST', '/commands', { action: { name: 'restart', args: { nope: 1 } }, target: { type: 'group', id: group } });
  assert.is(bad.status, 400, JSON.stringify(bad.body));
  assert.is((await adminCall(a.socket, 'GET', `/agents/${member}`)).status, 404, 'bad input imports nothing');

  const issued = await adminCall(a.socket, 'POST', '/commands', { action: { name: 'restart', args: {} }, target: { type: 'group', id: group } });
  assert.is(issued.status, 201, JSON.stringify(issued.body));
  assert.is(issued.body.targets, 1);
  const frame = await stream.next((e) => e.event === 'command', 30_000);
  assert.is(JSON.parse(frame.data).id, issued.body.id);
  const reported = await call('POST', `${b.server.api}/commands/${issued.body.id}/result`, { token, json: { status: 'success' } });
  assert.is(reported.status, 204, reported.text);
  await eventually(
    () => adminCall(a.socket, 'GET', `/commands/${issued.body.id}`),
    (r) => r.body?.targets?.[0]?.state === 'success',
    'the member’s success as seen from A',
  );

  // A moves the member to another group: B takes the membership over and pushes the configuration
  const moved = await adminCall(a.socket, 'POST', '/commands', { action: { name: 'set-group', args: { groups: [group, 'moved'] } }, target: { type: 'agent', id: member } });
  assert.is(moved.status, 201, JSON.stringify(moved.body));
  const onB = await eventually(
    () => adminCall(b.socket, 'GET', `/agents/${member}`),
    (r) => r.body?.groups?.length === 2,
    'the new groups on B',
  );
  assert.equal(onB.body.groups, [group, 'moved']);
  await stream.next((e) => e.event === 'config', 30_000);
  await eventually(async () => commandsOf(stream.events).map((c) => c.id), (ids) => ids.includes(moved.body.id), 'the set-group command on B');
});

scale('a legacy scrypt hash re-hashed by a login on A reaches the index; B verifies the new form', async (ctx) => {
  const { a, b } = ctx;
  const legacy = `${ctx.agent}-legacy`;
  // registered before agent keys were HMAC'd: its AgentRegistered (and index document) carry scrypt
  const journal = openJournal({ projections: createProjections, dataDir: a.dataDir, quotaBytes: 1 << 30 });
  const keyHash = await hashSecret(AGENT_KEY);
  await journal.commit.run((tx) => {
    tx.append({ type: 'AgentRegistered', stream: legacy, actor: 'test', data: { uuid: legacy, name: legacy, groups: [], keyHash } });
  });
  await journal.close();
  await eventually(() => agentDoc(ctx.osUrl, legacy), (d) => d?.key_hash === keyHash, 'the legacy agent in the agents index');
  await login(a.server.api, { uuid: legacy, key: AGENT_KEY });
  const doc = await eventually(() => agentDoc(ctx.osUrl, legacy), (d) => /^hmac-sha256\$/.test(d?.key_hash ?? ''), 'the re-hashed key in the index');
  assert.is(doc!.name, legacy, 'the rest of the document is kept');
  await login(b.server.api, { uuid: legacy, key: AGENT_KEY });
  const onB = await runCli(['journal', 'verify'], { COMMS_API_DATA_DIR: b.dataDir });
  assert.is(onB.code, 0, onB.stdout + onB.stderr);
  const bDb = new Database(join(b.dataDir, 'comms.db'), { readonly: true });
  const types = bDb.prepare('SELECT type, actor, data FROM journal WHERE stream = ? ORDER BY seq').all(legacy) as Array<{ type: string; actor: string; data: string }>;
  bDb.close();
  assert.equal(types.map((t) => `${t.type} ${t.actor}`), ['AgentRegistered indexer'], 'B imported the new form: nothing to re-hash');
  assert.is(JSON.parse(types[0]!.data).keyHash, doc!.key_hash);
});

scale('an agent deleted on A can no longer log in or use its token on B', async (ctx) => {
  const { a, b, agent } = ctx;
  const token = await login(b.server.api, { uuid: agent, key: AGENT_KEY });
  assert.is((await call('GET', `${b.server.api}/configuration`, { token })).status, 200);
  const stream = await openSse(`${b.server.api}/commands`, { token });
  ctx.streams.push(stream);
  assert.is((await adminCall(a.socket, 'DELETE', `/agents/${agent}`)).status, 204);

  await eventually(
    () => call('GET', `${b.server.api}/configuration`, { token }),
    (r) => r.status === 401,
    'B refusing the deleted agent’s token',
  );
  await stream.ended;
  const again = await call('POST', `${b.server.api}/login`, { json: { uuid: agent, key: AGENT_KEY } });
  assert.is(again.status, 401, again.text);
  const onB = await adminCall(b.socket, 'GET', `/agents/${agent}`);
  assert.is(onB.status, 404);
});

scale.run();
