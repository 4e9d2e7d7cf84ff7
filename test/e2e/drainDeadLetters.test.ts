import { rmSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { call, login } from '../support/client.js';
import { startEngine, type EngineHandle } from '../support/engine/engine.js';
import { AGENT_KEY, runCli, spawnServer, tempDir, type ServerProcess } from '../support/server.js';
import { eventually } from '../support/eventually.js';

/** Guarantee: a dead-lettered item is listed with its reason and can be retried, from the CLI too. */
interface Ctx {
  dataDir: string;
  engine: EngineHandle;
  server: ServerProcess;
  env: Record<string, string>;
}

const cli = suite<Ctx>('dead letters from the command line');
cli.before(async (ctx) => {
  ctx.dataDir = tempDir();
  ctx.engine = await startEngine();
  ctx.env = { COMMS_API_DATA_DIR: ctx.dataDir, COMMS_API_ENGINE_SOCKET: ctx.engine.socket };
  assert.is((await runCli(['init'], ctx.env)).code, 0);
  assert.is((await runCli(['agents', 'add', '--uuid', 'dl-1', '--key', AGENT_KEY], ctx.env)).code, 0);
  ctx.server = await spawnServer(ctx.dataDir, { COMMS_API_ENGINE_SOCKET: ctx.engine.socket });
});
cli.after(async (ctx) => {
  await ctx.server.kill();
  await ctx.engine.stop();
  rmSync(ctx.dataDir, { recursive: true, force: true });
});

cli('list shows the refused batch with its reason; retry delivers it once the engine accepts it', async (ctx) => {
  await ctx.engine.setMode('reject400');
  const token = await login(ctx.server.api, { uuid: 'dl-1', key: AGENT_KEY });
  const line = '{"poison":  true}';
  const sent = await call('POST', `${ctx.server.api}/events/stateless`, {
    token,
    body: `{"agent":{}}\n{"module":"m","collector":"c"}\n${line}\n`,
    type: 'application/x-ndjson',
  });
  assert.is(sent.status, 202);
  const listed = await eventually(
    async () => JSON.parse((await runCli(['dead-letters', 'list'], ctx.env)).stdout),
    (l) => l.dead_letters.length === 1,
  );
  const dl = listed.dead_letters[0];
  assert.equal([dl.sink, dl.seq, dl.resolved], ['engine', sent.body.seq, false]);
  assert.match(dl.reason, /engine answered 400/);
  assert.match(dl.item.ndjson, /"poison":  true/);

  const refused = await runCli(['dead-letters', 'retry', String(dl.id)], ctx.env);
  assert.is(refused.code, 1);
  assert.match(refused.stderr, /still failing/);

  await ctx.engine.setMode('ok');
  const retried = await runCli(['dead-letters', 'retry', String(dl.id)], ctx.env);
  assert.is(retried.code, 0, retried.stderr);
  assert.equal(JSON.parse(retried.stdout), { id: dl.id, sink: 'engine', seq: sent.body.seq, resolved: true });
  assert.equal((await ctx.engine.received()).map((r) => r.data), [line]);
  assert.equal(JSON.parse((await runCli(['dead-letters', 'list'], ctx.env)).stdout).dead_letters, []);
  const all = JSON.parse((await runCli(['dead-letters', 'list', '--all'], ctx.env)).stdout).dead_letters;
  assert.is(all[0].resolved, true);
});

cli.run();
