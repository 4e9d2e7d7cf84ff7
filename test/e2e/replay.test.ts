import { rmSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { call, login } from '../support/client.js';
import { startEngine, type EngineHandle } from '../support/engine/engine.js';
import { AGENT_KEY, addUser, runCli, spawnServer, tempDir, type ServerProcess } from '../support/server.js';
import { eventually } from '../pipelines/eventually.js';

/**
 * Guarantee: replaying a journal range to the engine sends exactly that range, in journal order,
 * whatever the live pipeline already delivered; a dry run only counts it.
 */
interface Sent {
  seq: number;
  agent: string;
  lines: string[];
}
interface Ctx {
  dataDir: string;
  engine: EngineHandle;
  server: ServerProcess;
  operator: string;
  sent: Sent[];
  env: Record<string, string>;
}

function body(agent: string, seqTag: number, n: number): { text: string; lines: string[] } {
  const lines = Array.from({ length: n }, (_, i) => `{"tag":"${agent}-${seqTag}-${i}",  "v":${i}}`);
  return { text: `{"agent":{"name":"${agent}"}}\n${lines.map((l) => `{"module":"syslog","collector":"journald"}\n${l}\n`).join('')}`, lines };
}
const linesOf = (sent: Sent[]) => sent.flatMap((s) => s.lines);
const received = async (engine: EngineHandle) => (await engine.received()).map((r) => r.data);

const replay = suite<Ctx>('replay to the engine');

replay.before(async (ctx) => {
  ctx.dataDir = tempDir();
  ctx.engine = await startEngine();
  ctx.env = { COMMS_API_DATA_DIR: ctx.dataDir, COMMS_API_ENGINE_SOCKET: ctx.engine.socket };
  for (const a of ['r-1', 'r-2']) {
    const r = await runCli(['agents', 'add', '--uuid', a, '--key', AGENT_KEY], ctx.env);
    assert.is(r.code, 0, r.stderr);
  }
  await addUser(ctx.dataDir, 'ops', 'operator');
  ctx.server = await spawnServer(ctx.dataDir, { COMMS_API_ENGINE_SOCKET: ctx.engine.socket });
  ctx.operator = await login(ctx.server.api, { username: 'ops', password: 'correct horse battery' });
  const tokens = { 'r-1': await login(ctx.server.api, { uuid: 'r-1', key: AGENT_KEY }), 'r-2': await login(ctx.server.api, { uuid: 'r-2', key: AGENT_KEY }) };
  ctx.sent = [];
  for (let i = 0; i < 10; i++) {
    const agent = i % 3 === 2 ? 'r-2' : 'r-1';
    const b = body(agent, i, 1 + (i % 3));
    const r = await call('POST', `${ctx.server.api}/events/stateless`, { token: tokens[agent], body: b.text, type: 'application/x-ndjson' });
    assert.is(r.status, 202, r.text);
    ctx.sent.push({ seq: r.body.seq, agent, lines: b.lines });
  }
  // the live pipeline delivers everything once; the replays below come on top of it
  await eventually(() => received(ctx.engine), (r) => r.length === linesOf(ctx.sent).length);
});
replay.before.each(async (ctx) => ctx.engine.reset());
replay.after(async (ctx) => {
  await ctx.server.kill();
  await ctx.engine.stop();
  rmSync(ctx.dataDir, { recursive: true, force: true });
});

replay('the CLI replays exactly a seq range in journal order and prints a summary', async (ctx) => {
  const range = ctx.sent.slice(2, 7);
  const r = await runCli(['replay', '--to', 'engine', '--from-seq', String(range[0]!.seq), '--to-seq', String(range[4]!.seq)], ctx.env);
  assert.is(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout);
  assert.is(summary.total, linesOf(range).length);
  assert.is(summary.sent, linesOf(range).length);
  assert.is(summary.batches, 5);
  assert.equal(await received(ctx.engine), linesOf(range));
  assert.equal((await ctx.engine.received()).map((e) => e.agentId), range.flatMap((s) => s.lines.map(() => s.agent)));
});

replay('a dry run counts the range and sends nothing', async (ctx) => {
  const r = await runCli(['replay', '--to', 'engine', '--dry-run', '--agent', 'r-2'], ctx.env);
  assert.is(r.code, 0, r.stderr);
  const summary = JSON.parse(r.stdout);
  const r2 = ctx.sent.filter((s) => s.agent === 'r-2');
  assert.equal([summary.dry_run, summary.batches, summary.total, summary.sent], [true, r2.length, linesOf(r2).length, 0]);
  assert.equal(await received(ctx.engine), []);
});

replay('an agent filter and a time window select only those batches', async (ctx) => {
  const r = await runCli(['replay', '--to', 'engine', '--agent', 'r-2', '--since', new Date(Date.now() - 3_600_000).toISOString()], ctx.env);
  assert.is(r.code, 0, r.stderr);
  assert.equal(await received(ctx.engine), linesOf(ctx.sent.filter((s) => s.agent === 'r-2')));
  const none = await runCli(['replay', '--to', 'engine', '--until', '2001-01-01T00:00:00Z'], ctx.env);
  assert.is(JSON.parse(none.stdout).total, 0);
  assert.equal(await received(ctx.engine), linesOf(ctx.sent.filter((s) => s.agent === 'r-2')));
});

replay('POST /journal/replay runs in the server and GET /journal/replays/{id} shows its progress', async (ctx) => {
  const from = ctx.sent[5]!.seq;
  const start = await call('POST', `${ctx.server.api}/journal/replay`, { token: ctx.operator, json: { to: 'engine', from_seq: from } });
  assert.is(start.status, 202, start.text);
  const done = await eventually(
    () => call('GET', `${ctx.server.api}/journal/replays/${start.body.id}`, { token: ctx.operator }),
    (p) => p.body.state !== 'running',
  );
  const expected = linesOf(ctx.sent.filter((s) => s.seq >= from));
  assert.equal([done.body.state, done.body.total, done.body.sent], ['done', expected.length, expected.length]);
  assert.ok(done.body.finished_at);
  assert.equal(await received(ctx.engine), expected);
});

replay('bad replay requests are refused with problem+json', async (ctx) => {
  for (const json of [{ to: 'indexer' }, { to: 'engine', from_seq: 5, to_seq: 2 }, { to: 'engine', since: 'yesterday' }, { to: 'engine', bogus: 1 }]) {
    const r = await call('POST', `${ctx.server.api}/journal/replay`, { token: ctx.operator, json });
    assert.is(r.status, 400, JSON.stringify(json));
    assert.is(r.headers.get('content-type'), 'application/problem+json');
  }
  const unknown = await call('GET', `${ctx.server.api}/journal/replays/00000000-0000-4000-8000-000000000000`, { token: ctx.operator });
  assert.is(unknown.status, 404);
  const cli = await runCli(['replay', '--to', 'engine', '--from-seq', 'x'], ctx.env);
  assert.is(cli.code, 2, 'a usage error');
  assert.match(cli.stderr, /--from-seq/);
  assert.equal(await received(ctx.engine), []);
});

replay.run();
