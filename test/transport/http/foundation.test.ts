import Database from 'better-sqlite3';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { call, login, statelessBatch } from '../../support/client.js';
import { addUser, AGENT_KEY, startTestServer, type TestServer } from '../../support/server.js';
import { expiredToken, forgedToken, unsignedToken } from '../../support/tokens.js';

interface Ctx {
  server: TestServer;
  operator: string;
  auditor: string;
  agent: string;
}

function journalRows(server: TestServer): Array<{ seq: number; type: string; stream: string; actor: string }> {
  const db = new Database(join(server.dataDir, 'comms.db'), { readonly: true });
  try {
    return db.prepare('SELECT seq, type, stream, actor FROM journal ORDER BY seq').all() as never;
  } finally {
    db.close();
  }
}

const NDJSON = 'application/x-ndjson';

async function setup(ctx: Ctx, env: Record<string, string> = {}): Promise<void> {
  ctx.server = await startTestServer(env);
  await addUser(ctx.server.dataDir, 'olga', 'operator', 'operator-password');
  await addUser(ctx.server.dataDir, 'audrey', 'auditor', 'auditor-password');
  ctx.operator = await login(ctx.server.api, { username: 'olga', password: 'operator-password' });
  ctx.auditor = await login(ctx.server.api, { username: 'audrey', password: 'auditor-password' });
  const r = await call('POST', `${ctx.server.api}/agents`, { token: ctx.operator, json: { uuid: 'agent-1', key: AGENT_KEY, groups: ['linux'] } });
  assert.is(r.status, 201, r.text);
  ctx.agent = await login(ctx.server.api, { uuid: 'agent-1', key: AGENT_KEY });
}

const Login = suite<Ctx>('logging in');
Login.before.each((ctx) => setup(ctx));
Login.after.each((ctx) => ctx.server.stop());

Login('an agent logs in and gets a bearer token with an expiry', async (ctx) => {
  const r = await call('POST', `${ctx.server.api}/login`, { json: { uuid: 'agent-1', key: AGENT_KEY } });
  assert.is(r.status, 200);
  assert.is(r.body.token_type, 'Bearer');
  assert.ok(Date.parse(r.body.expires_at) > Date.now());
  const claims = JSON.parse(Buffer.from(r.body.token.split('.')[1], 'base64url').toString());
  assert.is(claims.sub, 'agent-1');
  assert.is(claims.role, 'agent');
  assert.ok(claims.exp > Date.now() / 1000);
});

Login('/authentication answers agents with just the token', async (ctx) => {
  const r = await call('POST', `${ctx.server.api}/authentication`, { json: { uuid: 'agent-1', key: AGENT_KEY } });
  assert.is(r.status, 200);
  assert.equal(Object.keys(r.body), ['token']);
});

Login('a wrong key is 401 problem+json', async (ctx) => {
  const r = await call('POST', `${ctx.server.api}/login`, { json: { uuid: 'agent-1', key: 'x'.repeat(32) } });
  assert.is(r.status, 401);
  assert.is(r.headers.get('content-type'), 'application/problem+json');
  assert.is(r.body.status, 401);
  assert.ok(r.body.type && r.body.title && r.body.detail);
});

Login('repeated failures are throttled with 429 and Retry-After', async (ctx) => {
  const statuses: number[] = [];
  for (let i = 0; i < 7; i++) {
    statuses.push((await call('POST', `${ctx.server.api}/login`, { json: { username: 'olga', password: `wrong-${i}` } })).status);
  }
  assert.equal(statuses.slice(0, 5), [401, 401, 401, 401, 401]);
  const r = await call('POST', `${ctx.server.api}/login`, { json: { username: 'olga', password: 'operator-password' } });
  assert.is(r.status, 429);
  assert.ok(Number(r.headers.get('retry-after')) >= 1);
  assert.is(r.body.status, 429);
});

Login('a malformed login body is 400 and the wrong content type 415', async (ctx) => {
  assert.is((await call('POST', `${ctx.server.api}/login`, { json: { uuid: 5 } })).status, 400);
  assert.is((await call('POST', `${ctx.server.api}/login`, { body: '{nope', type: 'application/json' })).status, 400);
  assert.is((await call('POST', `${ctx.server.api}/login`, { body: 'uuid=a', type: 'application/x-www-form-urlencoded' })).status, 415);
});
Login.run();

const Events = suite<Ctx>('sending stateless events');
Events.before.each((ctx) => setup(ctx, { COMMS_API_MAX_BODY_BYTES: '65536' }));
Events.after.each((ctx) => ctx.server.stop());

Events('a batch is answered 202 after it is journaled, under the token agent, bytes as sent', async (ctx) => {
  const body = statelessBatch(3).replace('"ignored"', '"spoofed-agent"');
  const r = await call('POST', `${ctx.server.api}/events/stateless`, { token: ctx.agent, body, type: NDJSON });
  assert.is(r.status, 202, r.text);
  assert.is(r.body.durability, 'journaled');
  assert.is(r.body.events, 3);
  const db = new Database(join(ctx.server.dataDir, 'comms.db'), { readonly: true });
  const row = db.prepare('SELECT type, stream, actor, body FROM journal WHERE seq = ?').get(r.body.seq) as {
    type: string;
    stream: string;
    actor: string;
    body: Buffer;
  };
  db.close();
  assert.is(row.type, 'StatelessEventsReceived');
  assert.is(row.stream, 'agent-1');
  assert.is(row.actor, 'agent:agent-1');
  assert.is(row.body.toString(), body);
});

Events('a retry with the same Idempotency-Key gets the first answer and journals nothing', async (ctx) => {
  const send = () =>
    call('POST', `${ctx.server.api}/events/stateless`, { token: ctx.agent, body: statelessBatch(2), type: NDJSON, headers: { 'Idempotency-Key': 'batch-7' } });
  const first = await send();
  const before = journalRows(ctx.server).length;
  const second = await send();
  assert.is(second.status, 202);
  assert.equal(second.body, first.body);
  assert.is(journalRows(ctx.server).length, before);
});

const refusals: Array<[string, (ctx: Ctx) => Parameters<typeof call>[2], number]> = [
  ['no token', () => ({ body: statelessBatch(1), type: NDJSON }), 401],
  ['an expired token', (ctx) => ({ token: expiredToken(ctx.server.dataDir, 'agent-1', 'agent'), body: statelessBatch(1), type: NDJSON }), 401],
  ['a forged token', () => ({ token: forgedToken('agent-1', 'agent'), body: statelessBatch(1), type: NDJSON }), 401],
  ['an unsigned token', () => ({ token: unsignedToken('agent-1', 'agent'), body: statelessBatch(1), type: NDJSON }), 401],
  ['a garbage token', () => ({ token: 'not.a.jwt', body: statelessBatch(1), type: NDJSON }), 401],
  ['an operator token (wrong role)', (ctx) => ({ token: ctx.operator, body: statelessBatch(1), type: NDJSON }), 403],
  ['a text/plain content type', (ctx) => ({ token: ctx.agent, body: statelessBatch(1), type: 'text/plain' }), 415],
  ['invalid JSON on a line', (ctx) => ({ token: ctx.agent, body: '{"agent":{}}\n{"module":"m","collector":"c"}\n{bad\n', type: NDJSON }), 400],
  ['a header without collector', (ctx) => ({ token: ctx.agent, body: '{"agent":{}}\n{"module":"m"}\n{}\n', type: NDJSON }), 400],
  ['an oversize body', (ctx) => ({ token: ctx.agent, body: statelessBatch(2000), type: NDJSON }), 413],
  ['a bad Idempotency-Key', (ctx) => ({ token: ctx.agent, body: statelessBatch(1), type: NDJSON, headers: { 'Idempotency-Key': 'has space' } }), 400],
];
for (const [name, opts, status] of refusals) {
  Events(`${name} is refused with ${status} problem+json and nothing is journaled`, async (ctx) => {
    const before = journalRows(ctx.server).length;
    const r = await call('POST', `${ctx.server.api}/events/stateless`, opts(ctx));
    assert.is(r.status, status, r.text);
    assert.match(r.headers.get('content-type') ?? '', 'application/problem+json');
    assert.is(r.body.status, status);
    assert.is(journalRows(ctx.server).length, before);
  });
}

Events('NDJSON labelled application/json (as the existing Wazuh agent sends it) is accepted like x-ndjson', async (ctx) => {
  const before = journalRows(ctx.server).length;
  const r = await call('POST', `${ctx.server.api}/events/stateless`, { token: ctx.agent, body: statelessBatch(2), type: 'application/json' });
  assert.is(r.status, 202, r.text);
  assert.is(r.body.events, 2);
  assert.is(journalRows(ctx.server).length, before + 1);
});

Events('a bad line is named in the problem', async (ctx) => {
  const r = await call('POST', `${ctx.server.api}/events/stateless`, {
    token: ctx.agent,
    body: '{"agent":{}}\n{"module":"m","collector":"c"}\n{}\n{"module":"m","collector":"c"}\nnope\n',
    type: NDJSON,
  });
  assert.is(r.status, 400);
  assert.match(r.body.detail, 'line 5');
  assert.equal(r.body.errors, [{ line: 5, message: 'not valid JSON' }]);
});

Events('a deleted agent is refused at once, even with a token that has not expired', async (ctx) => {
  const d = await call('DELETE', `${ctx.server.api}/agents/agent-1`, { token: ctx.operator });
  assert.is(d.status, 204);
  const r = await call('POST', `${ctx.server.api}/events/stateless`, { token: ctx.agent, body: statelessBatch(1), type: NDJSON });
  assert.is(r.status, 401);
  assert.is((await call('POST', `${ctx.server.api}/login`, { json: { uuid: 'agent-1', key: AGENT_KEY } })).status, 401);
});
Events.run();

const Agents = suite<Ctx>('registering agents over HTTP');
Agents.before.each((ctx) => setup(ctx));
Agents.after.each((ctx) => ctx.server.stop());

Agents('an auditor may not register agents (403) and nothing is journaled', async (ctx) => {
  const before = journalRows(ctx.server).length;
  const r = await call('POST', `${ctx.server.api}/agents`, { token: ctx.auditor, json: { uuid: 'agent-2', key: AGENT_KEY } });
  assert.is(r.status, 403);
  assert.is(journalRows(ctx.server).length, before);
});

Agents('a duplicate uuid is 409, a bad key 400 naming the field, an unknown route 404', async (ctx) => {
  assert.is((await call('POST', `${ctx.server.api}/agents`, { token: ctx.operator, json: { uuid: 'agent-1', key: AGENT_KEY } })).status, 409);
  const bad = await call('POST', `${ctx.server.api}/agents`, { token: ctx.operator, json: { uuid: 'agent-2', key: 'short' } });
  assert.is(bad.status, 400);
  assert.is(bad.body.errors[0].field, 'key');
  assert.is((await call('GET', `${ctx.server.api}/nothing-here`)).status, 404);
  assert.is((await call('DELETE', `${ctx.server.api}/agents/nobody`, { token: ctx.operator })).status, 404);
});

Agents('registration is journaled with the operator as actor', async (ctx) => {
  const rows = journalRows(ctx.server).filter((r) => r.type === 'AgentRegistered');
  assert.equal(rows.map((r) => [r.stream, r.actor]), [['agent-1', 'user:olga']]);
});
Agents.run();
