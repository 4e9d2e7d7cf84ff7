import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { AGENT_KEY, addUser, startTestServer, type TestServer } from '../support/server.js';
import { call, login } from '../support/client.js';
import { startEngine, type EngineHandle } from '../support/engine/engine.js';
import { eventually } from '../support/eventually.js';

interface Ctx {
  engine: EngineHandle;
  server: TestServer;
  agents: Record<string, string>;
  operator: string;
}

let counter = 0;
/** A stateless batch whose data lines are unique and keep odd spacing (byte-for-byte check). */
function batch(agent: string, n: number): { body: string; lines: string[] } {
  const lines: string[] = [];
  let body = `${JSON.stringify({ agent: { id: 'whatever', name: agent, version: '4.9' } })}\n`;
  for (let i = 0; i < n; i++) {
    const line = `{"n":${++counter},  "agent":"${agent}", "msg":"é ✓ \\"q\\""}`;
    lines.push(line);
    body += `{"module":"logcollector","collector":"file"}\n${line}\n`;
  }
  return { body, lines };
}

async function send(ctx: Ctx, agent: string, n: number): Promise<string[]> {
  const b = batch(agent, n);
  const r = await call('POST', `${ctx.server.api}/events/stateless`, { token: ctx.agents[agent]!, body: b.body, type: 'application/x-ndjson' });
  assert.is(r.status, 202, r.text);
  return b.lines;
}

const received = async (engine: EngineHandle) => (await engine.received()).map((r) => r.data);
const readyPipelines = async (ctx: Ctx) => (await call('GET', `${ctx.server.api}/ready`)).body;

const drain = suite<Ctx>('engine pipeline');

drain.before(async (ctx) => {
  ctx.engine = await startEngine();
});
drain.before.each(async (ctx) => {
  await ctx.engine.setMode('ok');
  await ctx.engine.reset();
  ctx.server = await startTestServer({ COMMS_API_ENGINE_SOCKET: ctx.engine.socket });
  await addUser(ctx.server.dataDir, 'ops', 'operator');
  ctx.operator = await login(ctx.server.api, { username: 'ops', password: 'correct horse battery' });
  ctx.agents = {};
  for (const a of ['agent-a', 'agent-b']) {
    const r = await call('POST', `${ctx.server.api}/agents`, { token: ctx.operator, json: { uuid: a, key: AGENT_KEY } });
    assert.is(r.status, 201, r.text);
    ctx.agents[a] = await login(ctx.server.api, { uuid: a, key: AGENT_KEY });
  }
});
drain.after.each(async (ctx) => ctx.server.stop());
drain.after(async (ctx) => ctx.engine.stop());

drain('journaled events reach the engine byte for byte, with agent.id set from the token', async (ctx) => {
  const sent = [...(await send(ctx, 'agent-a', 3)), ...(await send(ctx, 'agent-b', 2))];
  const got = await eventually(() => ctx.engine.received(), (r) => r.length >= sent.length);
  assert.equal(got.map((r) => r.data), sent);
  assert.equal(got.map((r) => r.agentId), ['agent-a', 'agent-a', 'agent-a', 'agent-b', 'agent-b']);
  const ready = await eventually(() => readyPipelines(ctx), (b) => b.pipelines.engine.lag === 0);
  assert.is(ready.ready, true);
  assert.is(ready.pipelines.indexer.state, 'off');
});

drain('an engine that is down keeps the node ready; afterwards every event arrives once, each agent\'s in journal order', async (ctx) => {
  await ctx.engine.setMode('down');
  const sent: string[] = [];
  for (let i = 0; i < 12; i++) sent.push(...(await send(ctx, i % 3 === 0 ? 'agent-b' : 'agent-a', 1 + (i % 4))));
  const down = await eventually(() => readyPipelines(ctx), (b) => b.pipelines.engine.state === 'down', 30_000);
  assert.is(down.ready, true);
  assert.ok(down.pipelines.engine.lag > 0);
  await ctx.engine.setMode('ok');
  const got = await eventually(() => received(ctx.engine), (r) => r.length >= sent.length, 60_000);
  // the backlog is one page, grouped by agent: each agent's events in journal order
  const mine = (lines: string[], agent: string) => lines.filter((l) => l.includes(`"agent":"${agent}"`));
  assert.is(got.length, sent.length);
  for (const a of ['agent-a', 'agent-b']) assert.equal(mine(got, a), mine(sent, a));
  await eventually(() => readyPipelines(ctx), (b) => b.pipelines.engine.lag === 0 && b.pipelines.engine.state === 'caught-up');
  assert.equal(await received(ctx.engine), got, 'nothing more arrives');
});

drain('a 500 is retried; a 400 dead-letters the batch, the pipeline goes on, and a retry delivers it', async (ctx) => {
  await ctx.engine.setMode('error500', { times: 2 });
  const first = await send(ctx, 'agent-a', 2);
  await eventually(() => received(ctx.engine), (r) => r.length >= 2);
  await ctx.engine.setMode('reject400', { times: 1 });
  const poison = await send(ctx, 'agent-a', 3);
  const dl = await eventually(
    () => call('GET', `${ctx.server.api}/dead-letters`, { token: ctx.operator }),
    (r) => r.body.dead_letters?.length === 1,
  );
  const letter = dl.body.dead_letters[0];
  assert.is(letter.sink, 'engine');
  assert.match(letter.reason, /400/);
  const after = await send(ctx, 'agent-b', 2);
  await eventually(() => received(ctx.engine), (r) => r.length >= 4);
  assert.equal(await received(ctx.engine), [...first, ...after]);

  const retried = await call('POST', `${ctx.server.api}/dead-letters/${letter.id}/retry`, { token: ctx.operator });
  assert.is(retried.status, 200, retried.text);
  assert.equal(await received(ctx.engine), [...first, ...after, ...poison]);
  const again = await call('POST', `${ctx.server.api}/dead-letters/${letter.id}/retry`, { token: ctx.operator });
  assert.is(again.status, 409);
  assert.is(again.headers.get('content-type'), 'application/problem+json');
  const open = await call('GET', `${ctx.server.api}/dead-letters`, { token: ctx.operator });
  assert.equal(open.body.dead_letters, []);
});

drain('a dead-letter retry while the engine is still refusing answers 409, and 503 while it is down', async (ctx) => {
  await ctx.engine.setMode('reject400');
  await send(ctx, 'agent-a', 1);
  const dl = await eventually(
    () => call('GET', `${ctx.server.api}/dead-letters`, { token: ctx.operator }),
    (r) => r.body.dead_letters?.length === 1,
  );
  const id = dl.body.dead_letters[0].id;
  const refused = await call('POST', `${ctx.server.api}/dead-letters/${id}/retry`, { token: ctx.operator });
  assert.is(refused.status, 409);
  assert.match(refused.body.detail, /still failing: engine answered 400/);
  await ctx.engine.setMode('down');
  const down = await call('POST', `${ctx.server.api}/dead-letters/${id}/retry`, { token: ctx.operator });
  assert.is(down.status, 503);
  assert.ok(down.headers.get('retry-after'));
  const missing = await call('POST', `${ctx.server.api}/dead-letters/999/retry`, { token: ctx.operator });
  assert.is(missing.status, 404);
});

drain('large batches (written and read in worker threads) reach the engine byte for byte, in order with small ones', async (ctx) => {
  const big = (agent: string, tag: string) => {
    const b = batch(agent, 1);
    const pad = `{"tag":"${tag}","pad":"${'p'.repeat(600_000)}"}`;
    return { body: `${b.body}{"module":"m","collector":"c"}\n${pad}\n`, lines: [...b.lines, pad] };
  };
  const sent: string[] = [];
  for (const [i, b] of [big('agent-a', 'one'), batch('agent-a', 2), big('agent-a', 'two')].entries()) {
    const r = await call('POST', `${ctx.server.api}/events/stateless`, { token: ctx.agents['agent-a']!, body: b.body, type: 'application/x-ndjson' });
    assert.is(r.status, 202, `batch ${i}: ${r.text.slice(0, 200)}`);
    sent.push(...b.lines);
  }
  const got = await eventually(() => received(ctx.engine), (r) => r.length >= sent.length, 60_000);
  assert.is(got.length, sent.length);
  assert.ok(got.every((line, i) => line === sent[i]), 'every line arrives as sent, in journal order');
});

drain.run();
