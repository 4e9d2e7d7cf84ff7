import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createEngineClient, type EngineClient, type EngineSendResult } from '../../src/engine/engineClient.js';
import { startEngine, type EngineHandle } from '../support/engine/engine.js';

interface Ctx {
  engine: EngineHandle;
  client: EngineClient;
}

const AGENT = '{"agent":{"id":"0194a3c2-7d1e-7a00-8000-000000000001","name":"web-1"}}';
const HEADER = '{"module":"logcollector","collector":"file"}';

/** Data lines with odd spacing, escapes and non-ASCII text: they must arrive byte for byte. */
function dataLines(n: number, tag = 'e'): string[] {
  return Array.from({ length: n }, (_, i) => `{"seq":${i},  "tag":"${tag}", "msg":"héllo \\"wörld\\" ✓"}`);
}

/** One part per line, as the pipeline sends them: agent line, then header and data for each event. */
function parts(lines: readonly string[]): Buffer[] {
  const out = [Buffer.from(`${AGENT}\n`)];
  for (const l of lines) out.push(Buffer.from(`${HEADER}\n`), Buffer.from(`${l}\n`));
  return out;
}

function failure(r: EngineSendResult) {
  if (r.ok) throw new Error('expected a failure, got ok');
  return r;
}

function withEngine(name: string, timeoutMs = 2000) {
  const s = suite<Ctx>(name);
  s.before(async (ctx) => {
    ctx.engine = await startEngine();
  });
  s.before.each(async (ctx) => {
    await ctx.engine.setMode('ok');
    await ctx.engine.reset();
    ctx.client = createEngineClient({ socketPath: ctx.engine.socket, timeoutMs, maxSockets: 4 });
  });
  s.after.each((ctx) => ctx.client.close());
  s.after(async (ctx) => ctx.engine.stop());
  return s;
}

const delivery = withEngine('engine client: delivery');

delivery('a valid batch is accepted and the engine holds the exact data lines in order', async ({ engine, client }) => {
  const lines = dataLines(25);
  assert.equal(await client.send(parts(lines)), { ok: true });
  const received = await engine.received();
  assert.equal(received.map((r) => r.data), lines);
  assert.equal(received[0], { agentId: '0194a3c2-7d1e-7a00-8000-000000000001', module: 'logcollector', collector: 'file', data: lines[0] });
});

delivery('a single Buffer body is sent as is', async ({ engine, client }) => {
  const lines = dataLines(3);
  assert.equal(await client.send(Buffer.concat(parts(lines))), { ok: true });
  assert.equal((await engine.received()).map((r) => r.data), lines);
});

delivery('consecutive batches keep their order and reuse one keep-alive connection', async ({ engine, client }) => {
  const first = dataLines(10, 'first');
  const second = dataLines(10, 'second');
  assert.equal(await client.send(parts(first)), { ok: true });
  assert.equal(await client.send(parts(second)), { ok: true });
  assert.equal((await engine.received()).map((r) => r.data), [...first, ...second]);
  const stats = await engine.stats();
  assert.is(stats.accepted_events, 20);
  assert.is(stats.connections, 1);
});

delivery('a malformed body is not retryable and carries the engine status and reason', async ({ engine, client }) => {
  const r = failure(await client.send([Buffer.from(`${AGENT}\n${HEADER}\n`), Buffer.from('{"broken":\n')]));
  assert.is(r.retryable, false);
  assert.is(r.status, 400);
  assert.match(r.reason, /not valid JSON/);
  assert.is((await engine.stats()).accepted_events, 0);
});

delivery('a batch the engine rejects outright is not retryable', async ({ engine, client }) => {
  await engine.setMode('reject400');
  const r = failure(await client.send(parts(dataLines(2))));
  assert.is(r.retryable, false);
  assert.is(r.status, 400);
});

delivery.run();

const outages = withEngine('engine client: outages', 300);

outages('an engine that is down is retryable, and the next send after it is back succeeds', async ({ engine, client }) => {
  assert.equal(await client.send(parts(dataLines(1, 'before'))), { ok: true });
  await engine.setMode('down');
  const r = failure(await client.send(parts(dataLines(1, 'during'))));
  assert.is(r.retryable, true);
  assert.is(r.status, undefined);
  // the request may meet the engine's socket while it closes (EPIPE) as well as after (refused, reset)
  assert.match(r.reason, /ENOENT|ECONNREFUSED|ECONNRESET|EPIPE/, r.reason);
  await engine.setMode('ok');
  assert.equal(await client.send(parts(dataLines(1, 'after'))), { ok: true });
  assert.equal((await engine.received()).map((x) => JSON.parse(x.data).tag), ['before', 'after']);
});

outages('a 500 answer is retryable', async ({ engine, client }) => {
  await engine.setMode('error500');
  const r = failure(await client.send(parts(dataLines(2))));
  assert.is(r.retryable, true);
  assert.is(r.status, 500);
  assert.match(r.reason, /simulated/);
  await engine.setMode('ok');
  assert.equal(await client.send(parts(dataLines(2))), { ok: true });
});

outages('a stalled engine runs into the deadline, which is retryable, and works again once it answers', async ({ engine, client }) => {
  await engine.setMode('stall');
  const r = failure(await client.send(parts(dataLines(2, 'stalled'))));
  assert.is(r.retryable, true);
  assert.match(r.reason, /did not answer within 300 ms/);
  await engine.setMode('ok');
  assert.equal(await client.send(parts(dataLines(2, 'after'))), { ok: true });
  assert.equal((await engine.received()).map((x) => JSON.parse(x.data).tag), ['after', 'after']);
});

outages('a closed client answers retryable without sending', async ({ engine, client }) => {
  client.close();
  const r = failure(await client.send(parts(dataLines(1))));
  assert.is(r.retryable, true);
  assert.is((await engine.stats()).requests, 0);
});

outages.run();
