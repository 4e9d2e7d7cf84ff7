import { rmSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { call, login, statelessBatch } from '../support/client.js';
import { startEngine, type EngineHandle } from '../support/engine/engine.js';
import { AGENT_KEY, addUser, runCli, spawnServer, tempDir, type ServerProcess } from '../support/server.js';
import { eventually } from '../pipelines/eventually.js';

/**
 * Guarantee: retention never removes an entry a sink has not acknowledged, and the hash chain
 * still verifies after pruning (and after new entries follow the pruned prefix).
 */
interface Ctx {
  dataDir: string;
  engine: EngineHandle;
  server: ServerProcess;
  env: Record<string, string>;
  agent: string;
  operator: string;
  auditor: string;
}

const stats = async (ctx: Ctx) => (await call('GET', `${ctx.server.api}/journal/stats`, { token: ctx.operator })).body;
async function send(ctx: Ctx, n: number): Promise<number> {
  const r = await call('POST', `${ctx.server.api}/events/stateless`, { token: ctx.agent, body: statelessBatch(n), type: 'application/x-ndjson' });
  assert.is(r.status, 202, r.text);
  return r.body.seq;
}

async function boot(ctx: Ctx, env: Record<string, string> = {}): Promise<void> {
  ctx.dataDir = tempDir();
  ctx.engine = await startEngine();
  ctx.env = { COMMS_API_DATA_DIR: ctx.dataDir, COMMS_API_ENGINE_SOCKET: ctx.engine.socket };
  assert.is((await runCli(['agents', 'add', '--uuid', 'p-1', '--key', AGENT_KEY], ctx.env)).code, 0);
  await addUser(ctx.dataDir, 'ops', 'operator');
  await addUser(ctx.dataDir, 'audit', 'auditor');
  ctx.server = await spawnServer(ctx.dataDir, { COMMS_API_ENGINE_SOCKET: ctx.engine.socket, ...env });
  ctx.agent = await login(ctx.server.api, { uuid: 'p-1', key: AGENT_KEY });
  ctx.operator = await login(ctx.server.api, { username: 'ops', password: 'correct horse battery' });
  ctx.auditor = await login(ctx.server.api, { username: 'audit', password: 'correct horse battery' });
}
async function shutdown(ctx: Ctx): Promise<void> {
  await ctx.server.kill();
  await ctx.engine.stop();
  rmSync(ctx.dataDir, { recursive: true, force: true });
}

const prune = suite<Ctx>('journal prune');
prune.before(boot);
prune.after(shutdown);

prune('pruning stops at what the engine acknowledged, and the chain verifies afterwards', async (ctx) => {
  for (let i = 0; i < 5; i++) await send(ctx, 3);
  await eventually(() => stats(ctx), (s) => s.checkpoints.find((c: { name: string }) => c.name === 'sink:engine')?.lag === 0);
  await ctx.engine.setMode('down');
  const pending = [await send(ctx, 2), await send(ctx, 2)];
  const before = await stats(ctx);
  const r = await runCli(['journal', 'prune', '--before-seq', String(before.head_seq + 1)], ctx.env);
  assert.is(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  assert.is(result.pruned, true);
  assert.ok(result.through_seq < pending[0]!, 'unacknowledged entries are kept');
  assert.is(result.safe_through_seq, result.through_seq);
  const after = await eventually(() => stats(ctx), (s) => s.pipelines.engine.state === 'down');
  assert.is(after.first_seq, result.through_seq + 1);
  assert.is(after.pipelines.engine.lag, after.head_seq - result.through_seq);
  const byAuditor = await call('GET', `${ctx.server.api}/journal/stats`, { token: ctx.auditor });
  assert.is(byAuditor.status, 200);
  const byAgent = await call('GET', `${ctx.server.api}/journal/stats`, { token: ctx.agent });
  assert.is(byAgent.status, 403);

  const verify = await runCli(['journal', 'verify'], ctx.env);
  assert.is(verify.code, 0, verify.stdout);
  assert.is(JSON.parse(verify.stdout).ok, true);
  // the engine comes back: the kept entries still arrive
  await ctx.engine.setMode('ok');
  await eventually(() => ctx.engine.stats(), (s) => s.accepted_events === 15 + 4);
  // new entries chain onto the anchor
  await send(ctx, 1);
  const online = await call('GET', `${ctx.server.api}/journal/verify`, { token: ctx.auditor });
  assert.is(online.status, 200);
  assert.is(online.body.ok, true);
  // projections still hold the state of pruned entries: the agent can still log in
  await login(ctx.server.api, { uuid: 'p-1', key: AGENT_KEY });
});

prune('pruning with nothing acknowledged, or no criterion, removes nothing', async (ctx) => {
  const none = await runCli(['journal', 'prune', '--before-seq', '1'], ctx.env);
  assert.is(none.code, 0, none.stderr);
  assert.is(JSON.parse(none.stdout).pruned, false);
  const bad = await runCli(['journal', 'prune'], ctx.env);
  assert.is(bad.code, 2, 'a usage error');
  assert.match(bad.stderr, /before-seq/);
});

prune.run();

const retention = suite<Ctx>('automatic retention');
retention.before((ctx) => boot(ctx, { COMMS_API_RETENTION_MAX_BYTES: '1' }));
retention.after(shutdown);

retention('the server prunes on its own by size, up to the sinks’ checkpoint', async (ctx) => {
  const last = await send(ctx, 2);
  await eventually(() => stats(ctx), (s) => s.first_seq > last, 30_000);
  const verify = await call('GET', `${ctx.server.api}/journal/verify`, { token: ctx.auditor });
  assert.is(verify.body.ok, true);
  assert.is((await ctx.engine.stats()).accepted_events, 2);
});

retention.run();
