import Database from 'better-sqlite3';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { call } from '../../support/client.js';
import { eventually } from '../../support/eventually.js';
import { bound, median, timedRequest } from '../../support/timing.js';
import { headSeq, startWorld, type World } from './management.support.js';

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

/** /health's idle median, then `body` posted as a stateless batch while /health is polled until it is answered. */
async function postWhilePolling(w: World, agent: string, body: Buffer) {
  const idle = await idleHealth(w.server.api);
  const post = timedRequest(`${w.server.api}/events/stateless`, {
    method: 'POST',
    body,
    headers: { authorization: `Bearer ${agent}`, 'content-type': 'application/x-ndjson' },
  });
  const during = await pollHealth(w.server.api, post);
  return { idle, during, r: await post };
}

Large('validating 260,000 events (the last line is bad: 400) holds the loop no longer than a normal request', async ({ w, agent }) => {
  const body = hugeBatch('{"module":"m"}\n{"i":1}\n');
  const { idle, during, r } = await postWhilePolling(w, agent, body);
  assert.is(r.status, 400, r.body);
  assert.match(r.body, /"line":520002/);
  const worst = Math.max(...during);
  const limit = bound(idle, 20, 250);
  assert.ok(during.length >= 3, `health polled ${during.length} times during a ${r.ms.toFixed(0)} ms validation`);
  assert.ok(worst <= limit, `worst /health ${worst.toFixed(0)} ms while validating (idle median ${idle.toFixed(1)} ms, limit ${limit.toFixed(0)} ms; ${during.length} polls)`);
});

Large('ingesting 260,000 events: /health keeps answering; only the journal commit of the 10 MB row holds the loop', async ({ w, agent }) => {
  const body = hugeBatch();
  assert.ok(body.length < 10 * 1024 * 1024);
  const { idle, during, r } = await postWhilePolling(w, agent, body);
  assert.is(r.status, 202, r.body);
  assert.is(JSON.parse(r.body).events, 260_000);
  const worst = Math.max(...during);
  // the synchronous SQLite commit (fsync) of one 10 MB row is ~130-350 ms here: bounded, not proportional to the events
  const limit = bound(idle, 20, 800);
  assert.ok(during.length >= 5, `health polled ${during.length} times during a ${r.ms.toFixed(0)} ms ingest`);
  assert.ok(worst <= limit, `worst /health ${worst.toFixed(0)} ms during the ingest (idle median ${idle.toFixed(1)} ms, limit ${limit.toFixed(0)} ms; ${during.length} polls)`);
});

Large.run();

/** ~10 MB in ten events of ~1 MB each: quick to check, long to write. */
function fewHugeEvents(mark: string): Buffer {
  const event = `{"module":"m","collector":"c"}\n{"mark":"${mark}","s":"${'x'.repeat(1_000_000)}"}\n`;
  return Buffer.from(`{"agent":{"name":"sim"}}\n${event.repeat(10)}`);
}

const postBatch = (w: World, agent: string, body: Buffer, key?: string) =>
  call('POST', `${w.server.api}/events/stateless`, {
    token: agent,
    body,
    type: 'application/x-ndjson',
    ...(key ? { headers: { 'idempotency-key': key } } : {}),
  });

const Elsewhere = suite<{ w: World; agent: string }>('a large batch is written off the event loop');
Elsewhere.before(async (ctx) => {
  // no signed head falls due while a test holds the database's write lock (it would wait for it)
  ctx.w = await startWorld({ 'agent-1': [] }, { COMMS_API_HEADS_EVERY_SECONDS: '86400' });
  ctx.agent = ctx.w.agents['agent-1']!;
});

/** Waits until the node writes nothing on its own: the engine pipeline has passed every entry and stored its checkpoint. */
async function quiet(w: World): Promise<void> {
  await eventually(() => call('GET', `${w.server.api}/ready`), (r) => r.body.pipelines.engine.lag === 0, { what: 'the engine pipeline to pass every entry' });
  await new Promise((r) => setTimeout(r, 1000)); // its checkpoint is stored within 250 ms
}
Elsewhere.after((ctx) => ctx.w.server.stop());

Elsewhere('while its write waits for the database, /health is answered and the batch is not; then it is journaled byte for byte', async ({ w, agent }) => {
  await quiet(w);
  // another connection holds SQLite's write lock: the batch's write has to wait for it
  const lock = new Database(join(w.server.dataDir, 'comms.db'));
  lock.exec('BEGIN IMMEDIATE');
  let settled = false;
  let post: ReturnType<typeof postBatch>;
  const body = fewHugeEvents('held');
  try {
    post = postBatch(w, agent, body);
    void post.finally(() => (settled = true));
    const started = Date.now();
    let answered = 0;
    // the check of ten lines is quick; the lock is held well past it
    while (answered < 30 || Date.now() - started < 2000) {
      const r = await call('GET', `${w.server.api}/health`);
      assert.is(r.status, 200);
      answered += 1;
    }
    assert.not.ok(settled, 'the batch is not acknowledged while it cannot be written');
  } finally {
    lock.exec('COMMIT');
    lock.close();
  }
  const r = await post!;
  assert.is(r.status, 202, r.text);
  assert.is(r.body.events, 10);
  const db = new Database(join(w.server.dataDir, 'comms.db'), { readonly: true });
  try {
    const row = db.prepare('SELECT type, stream, body FROM journal WHERE seq = ?').get(r.body.seq) as { type: string; stream: string; body: Buffer };
    assert.is(row.type, 'StatelessEventsReceived');
    assert.is(row.stream, 'agent-1');
    assert.ok(row.body.equals(body), 'the journal keeps the agent\'s bytes exactly');
  } finally {
    db.close();
  }
});

Elsewhere('large and small batches interleave in one chain; an Idempotency-Key holds across both paths', async ({ w, agent }) => {
  const small = Buffer.from('{"agent":{}}\n{"module":"m","collector":"c"}\n{"i":1}\n');
  const big = fewHugeEvents('first');
  const [a, b, c] = await Promise.all([postBatch(w, agent, big, 'key-big'), postBatch(w, agent, small), postBatch(w, agent, fewHugeEvents('second'))]);
  for (const r of [a, b, c]) assert.is(r.status, 202, r.text);
  assert.is(new Set([a.body.seq, b.body.seq, c.body.seq]).size, 3);
  const again = await postBatch(w, agent, big, 'key-big');
  assert.is(again.status, 202);
  assert.equal(again.body, a.body, 'the same key and bytes get the first answer');
  const other = await postBatch(w, agent, fewHugeEvents('other'), 'key-big');
  assert.is(other.status, 422, other.text);
  assert.is(other.headers.get('content-type'), 'application/problem+json');
  assert.is(other.body.batch, a.body.batch);
  const smallUnderBigKey = await postBatch(w, agent, small, 'key-big');
  assert.is(smallUnderBigKey.status, 422, 'the key remembers the large body on the small path too');
  const verify = await call('GET', `${w.server.api}/journal/verify`, { token: w.auditor });
  assert.is(verify.status, 200);
  assert.is(verify.body.ok, true, verify.text);
});

Elsewhere.run();

/** ~`kb` KB of small events, `mark` in each: a mid-sized batch (checked in the checker thread). */
function midBatch(mark: string, kb = 20, tail = ''): Buffer {
  const event = `{"module":"m","collector":"c"}\n{"mark":"${mark}","s":"${'y'.repeat(200)}"}\n`;
  return Buffer.from(`{"agent":{"name":"sim"}}\n${event.repeat(Math.ceil((kb * 1024) / event.length))}${tail}`);
}

const Checked = suite<{ w: World; agent: string }>('mid-sized batches are checked in another thread and written with the others');
Checked.before(async (ctx) => {
  ctx.w = await startWorld({ 'agent-1': [] });
  ctx.agent = ctx.w.agents['agent-1']!;
  // the first mid-sized body starts the checker thread (and is checked here meanwhile)
  assert.is((await postBatch(ctx.w, ctx.agent, midBatch('warm-up'))).status, 202);
  await new Promise((resolve) => setTimeout(resolve, 1500));
});
Checked.after((ctx) => ctx.w.server.stop());

Checked('40 mid-sized batches beside 40 small ones: each is journaled once, byte for byte, in one chain', async ({ w, agent }) => {
  const small = (i: number) => Buffer.from(`{"agent":{}}\n{"module":"m","collector":"c"}\n{"small":${i}}\n`);
  const bodies = Array.from({ length: 80 }, (_, i) => (i % 2 ? small(i) : midBatch(`m${i}`, 8 + (i % 7) * 10)));
  const answers = await Promise.all(bodies.map((b) => postBatch(w, agent, b)));
  for (const r of answers) assert.is(r.status, 202, r.text);
  assert.is(new Set(answers.map((r) => r.body.seq)).size, 80);
  const db = new Database(join(w.server.dataDir, 'comms.db'), { readonly: true });
  try {
    const body = db.prepare('SELECT body FROM journal WHERE seq = ?').pluck();
    answers.forEach((r, i) => assert.ok((body.get(r.body.seq) as Buffer).equals(bodies[i]!), `batch ${i} is kept exactly`));
  } finally {
    db.close();
  }
  const verify = await call('GET', `${w.server.api}/journal/verify`, { token: w.auditor });
  assert.is(verify.body.ok, true, verify.text);
});

Checked('a bad or too deep line of a mid-sized batch is 400 naming its line, and nothing is journaled', async ({ w, agent }) => {
  const before = headSeq(w.server);
  const lines = (mark: string) => midBatch(mark, 30).toString().split('\n').length - 1;
  const bad = await postBatch(w, agent, midBatch('bad', 30, '{"module":"m","collector":"c"}\n{"i":\n'));
  assert.is(bad.status, 400, bad.text);
  assert.is(bad.body.errors[0].line, lines('bad') + 2);
  const deep = await postBatch(w, agent, midBatch('deep', 30, `{"module":"m","collector":"c"}\n${'['.repeat(65)}${']'.repeat(65)}\n`));
  assert.is(deep.status, 400, deep.text);
  assert.is(deep.body.errors[0].line, lines('deep') + 2);
  assert.is(headSeq(w.server), before);
});

Checked('an Idempotency-Key holds on the checker path: the same bytes get the first answer, others 422', async ({ w, agent }) => {
  const body = midBatch('idem', 40);
  const first = await postBatch(w, agent, body, 'key-mid');
  assert.is(first.status, 202, first.text);
  const again = await postBatch(w, agent, body, 'key-mid');
  assert.equal(again.body, first.body);
  const other = await postBatch(w, agent, midBatch('idem-other', 40), 'key-mid');
  assert.is(other.status, 422, other.text);
});

Checked.run();
