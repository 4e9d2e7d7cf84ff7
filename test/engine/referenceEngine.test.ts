// The reference engine itself (test/support/engine): it must be as strict as the real engine,
// or the tests that rely on it prove nothing.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import http from 'node:http';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startEngine, type EngineHandle } from '../support/engine/engine.js';
import { EngineErrorCode } from '../support/engine/parseStatelessBody.js';

interface Answer {
  status: number;
  body: { error?: string; code?: number; accepted?: number };
}

function post(socketPath: string, body: string | Buffer, contentType = 'application/x-ndjson'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { socketPath, method: 'POST', path: '/events/stateless', agent: false, headers: { 'content-type': contentType } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const AGENT = '{"agent":{"id":"a-1"}}';
const HEADER = '{"module":"m","collector":"c"}';
const DATA = '{"n":1}';

const strict = suite<{ engine: EngineHandle }>('reference engine: strict parsing');
strict.before(async (ctx) => {
  ctx.engine = await startEngine();
});
strict.before.each(async (ctx) => ctx.engine.reset());
strict.after(async (ctx) => ctx.engine.stop());

strict('a well-formed body with one trailing newline is accepted', async ({ engine }) => {
  const r = await post(engine.socket, `${AGENT}\n${HEADER}\n${DATA}\n${HEADER}\n{"n":2}\n`);
  assert.equal(r, { status: 200, body: { accepted: 2 } });
});

strict('a well-formed body without a trailing newline is accepted', async ({ engine }) => {
  assert.equal(await post(engine.socket, `${AGENT}\n${HEADER}\n${DATA}`), { status: 200, body: { accepted: 1 } });
});

const rejected: [string, string, number][] = [
  ['an empty line between events', `${AGENT}\n${HEADER}\n${DATA}\n\n${HEADER}\n${DATA}\n`, EngineErrorCode.EmptyLine],
  ['two trailing newlines', `${AGENT}\n${HEADER}\n${DATA}\n\n`, EngineErrorCode.EmptyLine],
  ['a header without collector', `${AGENT}\n{"module":"m"}\n${DATA}\n`, EngineErrorCode.InvalidHeader],
  ['a header whose collector is not a string', `${AGENT}\n{"module":"m","collector":3}\n${DATA}\n`, EngineErrorCode.InvalidHeader],
  ['a data line that is not valid JSON', `${AGENT}\n${HEADER}\n{"n":1,}\n`, EngineErrorCode.InvalidJson],
  ['a data line that is an array', `${AGENT}\n${HEADER}\n[1,2]\n`, EngineErrorCode.InvalidData],
  ['fewer than three lines', `${AGENT}\n${HEADER}\n`, EngineErrorCode.TooFewLines],
  ['an empty body', '', EngineErrorCode.TooFewLines],
  ['a header without its data line', `${AGENT}\n${HEADER}\n${DATA}\n${HEADER}\n`, EngineErrorCode.MissingData],
  ['an agent line without a string id', `{"agent":{"id":7}}\n${HEADER}\n${DATA}\n`, EngineErrorCode.InvalidAgent],
];

for (const [what, body, code] of rejected) {
  strict(`${what} is answered 400 with {error, code} and nothing is recorded`, async ({ engine }) => {
    const r = await post(engine.socket, body);
    assert.is(r.status, 400);
    assert.is(r.body.code, code);
    assert.type(r.body.error, 'string');
    assert.equal(await engine.received(), []);
  });
}

strict('invalid UTF-8 is answered 400', async ({ engine }) => {
  const body = Buffer.concat([Buffer.from(`${AGENT}\n${HEADER}\n{"s":"`), Buffer.from([0xc3, 0x28]), Buffer.from('"}\n')]);
  const r = await post(engine.socket, body);
  assert.equal([r.status, r.body.code], [400, EngineErrorCode.InvalidUtf8]);
});

strict('another content type is answered 415', async ({ engine }) => {
  const r = await post(engine.socket, `${AGENT}\n${HEADER}\n${DATA}\n`, 'application/json');
  assert.equal([r.status, r.body.code], [415, EngineErrorCode.UnsupportedContentType]);
});

strict('stats count requests, accepted events, rejections and accepted bytes', async ({ engine }) => {
  const good = `${AGENT}\n${HEADER}\n${DATA}\n`;
  await post(engine.socket, good);
  await post(engine.socket, `${AGENT}\n\n`);
  const s = await engine.stats();
  assert.equal([s.requests, s.accepted_requests, s.accepted_events, s.rejected, s.bytes], [2, 1, 1, 1, Buffer.byteLength(good)]);
});

strict('received pages with from and limit', async ({ engine }) => {
  await post(engine.socket, `${AGENT}\n${HEADER}\n{"n":0}\n${HEADER}\n{"n":1}\n${HEADER}\n{"n":2}\n`);
  assert.equal((await engine.received({ from: 1, limit: 1 })).map((r) => r.data), ['{"n":1}']);
});

strict.run();

const control = suite<{ engine: EngineHandle }>('reference engine: control');
control.before(async (ctx) => {
  ctx.engine = await startEngine({ record: 'count' });
});
control.after(async (ctx) => ctx.engine.stop());

control('count mode keeps a hash of the data lines in order instead of the lines', async ({ engine }) => {
  await post(engine.socket, `${AGENT}\n${HEADER}\n{"a":1}\n${HEADER}\n{"b": 2}\n`);
  const expected = createHash('sha256').update('{"a":1}\n{"b": 2}\n').digest('hex');
  const s = await engine.stats();
  assert.is(s.accepted_events, 2);
  assert.is(s.data_hash, expected);
  try {
    await engine.received();
    assert.unreachable('received() must fail when the engine only counts');
  } catch (err) {
    assert.match((err as Error).message, /409/);
  }
});

control('down removes the socket path and ok listens again', async ({ engine }) => {
  await engine.setMode('down');
  assert.is(existsSync(engine.socket), false);
  await engine.setMode('ok');
  assert.is((await post(engine.socket, `${AGENT}\n${HEADER}\n${DATA}\n`)).status, 200);
});

control('error500 with times fails only that many requests', async ({ engine }) => {
  await engine.setMode('error500', { times: 2 });
  const body = `${AGENT}\n${HEADER}\n${DATA}\n`;
  const statuses = [];
  for (let i = 0; i < 3; i += 1) statuses.push((await post(engine.socket, body)).status);
  assert.equal(statuses, [500, 500, 200]);
});

control('reset zeroes the counters and the hash', async ({ engine }) => {
  await engine.reset();
  const s = await engine.stats();
  assert.equal([s.requests, s.accepted_events, s.bytes], [0, 0, 0]);
  assert.is(s.data_hash, createHash('sha256').digest('hex'));
});

control.run();
