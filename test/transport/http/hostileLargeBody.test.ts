import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { bound, median, timedRequest } from '../../support/timing.js';
import { startWorld, type World } from './management.support.js';

/** ~10 MB: the agent line, then 260,000 tiny events (header + data line each), then `tail`. */
function hugeBatch(tail = ''): Buffer {
  const event = '{"module":"m","collector":"c"}\n{"i":1}\n';
  return Buffer.from(`{"agent":{"name":"sim"}}\n${event.repeat(260_000)}${tail}`);
}

async function idleHealth(api: string): Promise<number> {
  const idle: number[] = [];
  for (let i = 0; i < 20; i++) idle.push((await timedRequest(`${api}/health`)).ms);
  return median(idle);
}

/** /health polled back to back until `done` settles; the latencies seen. */
async function pollHealth(api: string, done: Promise<unknown>): Promise<number[]> {
  let finished = false;
  void done.finally(() => (finished = true));
  const times: number[] = [];
  while (!finished) times.push((await timedRequest(`${api}/health`)).ms);
  return times;
}

const Large = suite<{ w: World; agent: string }>('a large events body does not hold the event loop');
Large.before(async (ctx) => {
  ctx.w = await startWorld({ 'agent-1': [] });
  ctx.agent = ctx.w.agents['agent-1']!;
});
Large.after((ctx) => ctx.w.server.stop());

Large('validating 260,000 events (the last line is bad: 400) holds the loop no longer than a normal request', async ({ w, agent }) => {
  const body = hugeBatch('{"module":"m"}\n{"i":1}\n');
  const idle = await idleHealth(w.server.api);
  const post = timedRequest(`${w.server.api}/events/stateless`, {
    method: 'POST',
    body,
    headers: { authorization: `Bearer ${agent}`, 'content-type': 'application/x-ndjson' },
  });
  const during = await pollHealth(w.server.api, post);
  const r = await post;
  assert.is(r.status, 400, r.body);
  assert.match(r.body, /"line":520002/);
  const worst = Math.max(...during);
  const limit = bound(idle, 20, 150);
  assert.ok(during.length >= 3, `health polled ${during.length} times during a ${r.ms.toFixed(0)} ms validation`);
  assert.ok(worst <= limit, `worst /health ${worst.toFixed(0)} ms while validating (idle median ${idle.toFixed(1)} ms, limit ${limit.toFixed(0)} ms; ${during.length} polls)`);
});

Large('ingesting 260,000 events: /health keeps answering; only the journal commit of the 10 MB row holds the loop', async ({ w, agent }) => {
  const body = hugeBatch();
  assert.ok(body.length < 10 * 1024 * 1024);
  const idle = await idleHealth(w.server.api);
  const post = timedRequest(`${w.server.api}/events/stateless`, {
    method: 'POST',
    body,
    headers: { authorization: `Bearer ${agent}`, 'content-type': 'application/x-ndjson' },
  });
  const during = await pollHealth(w.server.api, post);
  const r = await post;
  assert.is(r.status, 202, r.body);
  assert.is(JSON.parse(r.body).events, 260_000);
  const worst = Math.max(...during);
  // the synchronous SQLite commit (fsync) of one 10 MB row is ~130-350 ms here: bounded, not proportional to the events
  const limit = bound(idle, 20, 800);
  assert.ok(during.length >= 5, `health polled ${during.length} times during a ${r.ms.toFixed(0)} ms ingest`);
  assert.ok(worst <= limit, `worst /health ${worst.toFixed(0)} ms during the ingest (idle median ${idle.toFixed(1)} ms, limit ${limit.toFixed(0)} ms; ${during.length} polls)`);
});

Large.run();
