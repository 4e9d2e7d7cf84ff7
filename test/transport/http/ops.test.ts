import { rmSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { isLoopback, localOr } from '../../../src/transport/http/routes/ops.js';
import { call, login, statelessBatch } from '../../support/client.js';
import { openSse } from '../../support/sse.js';
import { addUser, AGENT_KEY, spawnServer, tempDir } from '../../support/server.js';
import { startWorld, type World } from './management.support.js';

/** The value of one sample line of a Prometheus text body, or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

const Metrics = suite<{ w: World }>('GET /metrics');
Metrics.before(async (ctx) => {
  ctx.w = await startWorld({ 'agent-1': ['g'] });
});
Metrics.after((ctx) => ctx.w.server.stop());

Metrics('is Prometheus text, open to loopback callers without a token', async ({ w }) => {
  const r = await call('GET', `${w.server.url}/metrics`);
  assert.is(r.status, 200);
  assert.match(r.headers.get('content-type')!, /^text\/plain; version=0\.0\.4/);
  assert.match(r.text, /# TYPE comms_api_http_requests_total counter/);
  assert.match(r.text, /# TYPE comms_api_http_request_duration_seconds histogram/);
});

Metrics('counts requests by the matched route pattern, not the raw path', async ({ w }) => {
  await call('GET', `${w.server.api}/agents/agent-1`, { token: w.operator });
  await call('GET', `${w.server.api}/agents/nobody`, { token: w.operator });
  const text = (await call('GET', `${w.server.url}/metrics`)).text;
  assert.is(sample(text, 'comms_api_http_requests_total', { route: '/api/v1/agents/:uuid', status: '200' }), 1);
  assert.is(sample(text, 'comms_api_http_requests_total', { route: '/api/v1/agents/:uuid', status: '404' }), 1);
  assert.not.match(text, /route="\/api\/v1\/agents\/agent-1"/);
  assert.ok(sample(text, 'comms_api_http_request_duration_seconds_count', { route: '/api/v1/agents/:uuid', method: 'GET' })! >= 2);
  await call('GET', `${w.server.api}/no/such/thing`);
  const after = (await call('GET', `${w.server.url}/metrics`)).text;
  assert.is(sample(after, 'comms_api_http_requests_total', { route: 'unmatched', status: '404' }), 1);
});

Metrics('counts journal appends by type and group-commit batches and their fsync time', async ({ w }) => {
  const before = (await call('GET', `${w.server.url}/metrics`)).text;
  const appends0 = sample(before, 'comms_api_journal_appends_total', { type: 'StatelessEventsReceived' }) ?? 0;
  const commits0 = sample(before, 'comms_api_group_commit_seconds_count') ?? 0;
  await Promise.all(
    [1, 2, 3].map(() =>
      call('POST', `${w.server.api}/events/stateless`, { token: w.agents['agent-1'], body: statelessBatch(2), type: 'application/x-ndjson' }),
    ),
  );
  const text = (await call('GET', `${w.server.url}/metrics`)).text;
  assert.is(sample(text, 'comms_api_journal_appends_total', { type: 'StatelessEventsReceived' }), appends0 + 3);
  const commits = sample(text, 'comms_api_group_commit_seconds_count')!;
  assert.ok(commits > commits0 && commits <= commits0 + 3, `commits ${commits0} → ${commits}`);
  assert.ok(sample(text, 'comms_api_group_commit_jobs_sum')! >= 3);
  assert.ok(sample(text, 'comms_api_journal_head_seq')! > 0);
});

Metrics('shows the open SSE streams and every checkpoint', async ({ w }) => {
  const s = await openSse(`${w.server.api}/commands`, { token: w.agents['agent-1'] });
  try {
    const text = (await call('GET', `${w.server.url}/metrics`)).text;
    assert.is(sample(text, 'comms_api_sse_open_streams'), 1);
    assert.match(text, /# TYPE comms_api_pipeline_lag gauge/);
    assert.ok(sample(text, 'comms_api_pipeline_lag', { pipeline: 'engine' }) !== undefined, 'the engine pipeline lag');
    assert.ok(sample(text, 'comms_api_pipeline_throughput_events_per_second', { pipeline: 'engine' }) !== undefined);
    assert.match(text, /# TYPE comms_api_checkpoint_seq gauge/);
  } finally {
    s.close();
  }
});

const Access = suite('who may read /metrics');
Access('loopback addresses are recognised, others are not', () => {
  for (const a of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) assert.ok(isLoopback(a), a);
  for (const a of ['10.0.0.1', '192.168.1.1', '::ffff:10.0.0.1', '2001:db8::1', '', undefined, '127.0.0.1.evil']) {
    assert.not.ok(isLoopback(a), String(a));
  }
});
Access('a remote caller goes through the operator guard; a loopback caller does not', async () => {
  const ctxFor = (remoteAddress: string) => ({ req: { socket: { remoteAddress } } }) as never;
  const calls: string[] = [];
  const guard = [async (_c: unknown, next: () => Promise<void>) => {
    calls.push('guard');
    await next();
  }];
  await localOr(guard as never)(ctxFor('10.1.2.3'), async () => void calls.push('handler'));
  assert.equal(calls, ['guard', 'handler']);
  calls.length = 0;
  await localOr(guard as never)(ctxFor('127.0.0.1'), async () => void calls.push('handler'));
  assert.equal(calls, ['handler']);
  calls.length = 0;
  const refusing = [async () => {
    throw Object.assign(new Error('no'), { status: 401 });
  }];
  try {
    await localOr(refusing as never)(ctxFor('10.1.2.3'), async () => void calls.push('handler'));
    assert.unreachable();
  } catch (e) {
    assert.is((e as { status: number }).status, 401);
  }
  assert.equal(calls, []);
});

const Health = suite<{ w: World }>('health and request ids');
Health.before(async (ctx) => {
  ctx.w = await startWorld();
});
Health.after((ctx) => ctx.w.server.stop());

Health('GET /health answers anyone', async ({ w }) => {
  const r = await call('GET', `${w.server.api}/health`);
  assert.is(r.status, 200);
  assert.is(r.body.status, 'ok');
});
Health('every answer carries an X-Request-Id; a sane incoming one is kept, a bad one replaced', async ({ w }) => {
  const a = await call('GET', `${w.server.api}/health`);
  assert.match(a.headers.get('x-request-id')!, /^[0-9a-f-]{36}$/);
  const b = await call('GET', `${w.server.api}/health`, { headers: { 'x-request-id': 'lb-1234.abc' } });
  assert.is(b.headers.get('x-request-id'), 'lb-1234.abc');
  const c = await call('GET', `${w.server.api}/health`, { headers: { 'x-request-id': 'bad id with spaces' } });
  assert.match(c.headers.get('x-request-id')!, /^[0-9a-f-]{36}$/);
  const e = await call('GET', `${w.server.api}/nowhere`, { headers: { 'x-request-id': 'err-1' } });
  assert.is(e.status, 404);
  assert.is(e.headers.get('x-request-id'), 'err-1');
});

const Logs = suite('request logs');
Logs('one JSON line per request with id, route, status, ms and who; never keys, passwords or tokens', async () => {
  const dataDir = tempDir();
  const password = 'operator-secret-password';
  await addUser(dataDir, 'olga', 'operator', password);
  const server = await spawnServer(dataDir, { COMMS_API_LOG_LEVEL: 'info' });
  try {
    const op = await login(server.api, { username: 'olga', password });
    const reg = await call('POST', `${server.api}/agents`, { token: op, json: { uuid: 'agent-9', key: AGENT_KEY } });
    assert.is(reg.status, 201);
    const agent = await login(server.api, { uuid: 'agent-9', key: AGENT_KEY });
    const r = await call('GET', `${server.api}/configuration`, { token: agent, headers: { 'x-request-id': 'trace-42' } });
    assert.is(r.status, 200);
    await call('GET', `${server.api}/agents/agent-9`, { token: op, headers: { 'x-request-id': 'trace-43' } });
    await call('POST', `${server.api}/login`, { json: { username: 'olga', password: 'wrong-password-xyz' } });
    const deadline = Date.now() + 10_000;
    while (!server.output().includes('trace-43') && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
    const lines = server
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const byId = (id: string) => lines.find((l) => l.reqId === id);
    const agentLine = byId('trace-42')!;
    assert.ok(agentLine, 'a line for trace-42');
    assert.is(agentLine.route, '/api/v1/configuration');
    assert.is(agentLine.method, 'GET');
    assert.is(agentLine.status, 200);
    assert.is(agentLine.agent, 'agent-9');
    assert.type(agentLine.ms, 'number');
    const userLine = byId('trace-43')!;
    assert.is(userLine.route, '/api/v1/agents/:uuid');
    assert.is(userLine.user, 'olga');
    const all = server.output();
    for (const secret of [password, 'wrong-password-xyz', AGENT_KEY, op, agent, op.split('.')[2]!]) {
      assert.not.ok(all.includes(secret), 'a secret reached the log');
    }
  } finally {
    await server.kill();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

Metrics.run();
Access.run();
Health.run();
Logs.run();
