import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import pino from 'pino';
import { createWriteState } from '../../src/node/writeState.js';
import { call, login, statelessBatch } from '../support/client.js';
import { startEngine, type EngineHandle } from '../support/engine/engine.js';
import { AGENT_KEY, runCli, spawnServer, tempDir, type ServerProcess } from '../support/server.js';
import { eventually } from '../support/eventually.js';

/** Log lines of the server process, parsed. */
const lines = (s: ServerProcess): Array<Record<string, any>> =>
  s
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
const logged = (s: ServerProcess, msg: string | RegExp) => lines(s).filter((l) => (typeof msg === 'string' ? l.msg === msg : msg.test(l.msg)));

async function firstLine(s: ServerProcess, msg: string | RegExp, ms?: number): Promise<Record<string, any>> {
  return (await eventually(async () => logged(s, msg)[0], Boolean, ms))!;
}

const ops = suite<{ dir: string; engine: EngineHandle; server: ServerProcess; token: string }>('what an operator sees: /ready and the logs');

ops.before(async (ctx) => {
  ctx.dir = tempDir('comms-api-ops-');
  ctx.engine = await startEngine();
  await ctx.engine.setMode('down');
  const env = { COMMS_API_DATA_DIR: ctx.dir };
  assert.is((await runCli(['init'], env)).code, 0);
  assert.is((await runCli(['agents', 'add', '--uuid', 'ops-1', '--key', AGENT_KEY], env)).code, 0);
  ctx.server = await spawnServer(ctx.dir, {
    COMMS_API_LOG_LEVEL: 'info',
    COMMS_API_ENGINE_SOCKET: ctx.engine.socket,
    COMMS_API_JOURNAL_MAX_BYTES: String(1 << 20),
  });
  ctx.token = await login(ctx.server.api, { uuid: 'ops-1', key: AGENT_KEY });
});
ops.after(async (ctx) => {
  await ctx.server.kill();
  await ctx.engine.stop();
  rmSync(ctx.dir, { recursive: true, force: true });
});

const post = (ctx: { server: ServerProcess; token: string }, body: string) =>
  call('POST', `${ctx.server.api}/events/stateless`, { token: ctx.token, body, type: 'application/x-ndjson' });

ops('a refused login is logged with the client address and the principal, without a stack', async (ctx) => {
  const r = await call('POST', `${ctx.server.api}/login`, { json: { uuid: 'ops-1', key: 'wrong-key-wrong-key-wrong-key-00' } });
  assert.is(r.status, 401);
  const line = await firstLine(ctx.server, /^login refused/);
  assert.is(line.principal, 'agent:ops-1');
  assert.match(line.client, /127\.0\.0\.1/);
  assert.not.ok(JSON.stringify(line).includes('stack'));
});

ops('an engine outage is logged when it starts, when it is down and when it recovers, with the error and the lag', async (ctx) => {
  assert.is((await post(ctx, statelessBatch(3))).status, 202);
  const down = await firstLine(ctx.server, 'engine pipeline down', 30_000);
  assert.ok(logged(ctx.server, 'engine pipeline retrying').length === 1, 'one line when it starts retrying');
  assert.ok(down.lag > 0);
  assert.match(down.last_error, /engine/i);
  await ctx.engine.setMode('ok');
  const up = await firstLine(ctx.server, 'engine pipeline recovered', 60_000);
  assert.is(up.to, 'ok');
  assert.is(logged(ctx.server, 'engine pipeline down').length, 1, 'one line per transition, not per retry');
});

ops('a dead letter is logged with its sink, seq and reason', async (ctx) => {
  await ctx.engine.setMode('reject400', { times: 1 });
  const r = await post(ctx, statelessBatch(2));
  assert.is(r.status, 202);
  const line = await firstLine(ctx.server, 'engine dead letter', 30_000);
  assert.is(line.sink, 'engine');
  assert.is(line.seq, r.body.seq);
  assert.type(line.reason, 'string');
});

ops('a full journal: /ready 503 with the reason, one line when it starts and one when it ends, no stack per request', async (ctx) => {
  assert.is((await call('GET', `${ctx.server.api}/ready`)).status, 200);
  const big = statelessBatch(200, { pad: 'x'.repeat(2000) });
  let refused = 0;
  for (let i = 0; i < 20 && refused < 3; i++) if ((await post(ctx, big)).status === 503) refused += 1;
  assert.is(refused, 3);
  const ready = await call('GET', `${ctx.server.api}/ready`);
  assert.is(ready.status, 503);
  assert.match(ready.body.reason, /^journal full/);
  await eventually(async () => logged(ctx.server, /^journal full/).length, (n) => n === 1);
  assert.is(logged(ctx.server, 'request failed').length, 0);
  assert.not.ok(ctx.server.output().includes('"stack"'));
  // the engine acknowledged everything: pruning (CLI, while the server runs) frees the space
  await eventually(async () => (await call('GET', `${ctx.server.api}/ready`)).body.pipelines.engine.lag, (lag) => lag === 0, 60_000);
  const head = JSON.parse((await runCli(['journal', 'stats'], { COMMS_API_DATA_DIR: ctx.dir })).stdout).head_seq as number;
  const pruned = await runCli(['journal', 'prune', '--before-seq', String(head)], { COMMS_API_DATA_DIR: ctx.dir });
  assert.is(pruned.code, 0, pruned.stderr);
  await eventually(async () => (await call('GET', `${ctx.server.api}/ready`)).status, (s) => s === 200, 30_000);
  await eventually(async () => logged(ctx.server, /^journal no longer full/).length, (n) => n === 1);
  assert.is((await post(ctx, statelessBatch(1))).status, 202);
});

ops('a lost data folder lock: /ready 503 and writes refused until it is back', async (ctx) => {
  const file = join(ctx.dir, 'serve.lock');
  const mine = readFileSync(file, 'utf8');
  writeFileSync(file, JSON.stringify({ ...JSON.parse(mine), pid: 1 }));
  const ready = await call('GET', `${ctx.server.api}/ready`);
  assert.is(ready.status, 503);
  assert.match(ready.body.reason, /^lock lost/);
  await eventually(async () => (await post(ctx, statelessBatch(1))).status, (s) => s === 503);
  writeFileSync(file, mine);
  assert.is((await call('GET', `${ctx.server.api}/ready`)).status, 200);
  assert.is((await post(ctx, statelessBatch(1))).status, 202);
});

const state = suite('write state');

state('shutting down is a reason, before anything else', () => {
  const ws = createWriteState({ sizeBytes: () => 10, quotaBytes: 5, checkLock: () => null, logger: pino({ level: 'silent' }) });
  assert.match(ws.reason()!, /^journal full/);
  ws.stopping();
  assert.is(ws.reason(), 'shutting down');
});

ops.run();
state.run();
