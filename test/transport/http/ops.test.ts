import { rmSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { requireRole } from '../../../src/transport/http/auth.js';
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

const Metrics = suite<{ w: World; scrape: () => Promise<string> }>('GET /metrics');
Metrics.before(async (ctx) => {
  ctx.w = await startWorld({ 'agent-1': ['g'] });
  ctx.scrape = async () => (await call('GET', `${ctx.w.server.url}/metrics`, { token: ctx.w.operator })).text;
});
Metrics.after((ctx) => ctx.w.server.stop());

Metrics('is Prometheus text', async ({ w }) => {
  const r = await call('GET', `${w.server.url}/metrics`, { token: w.operator });
  assert.is(r.status, 200);
  assert.match(r.headers.get('content-type')!, /^text\/plain; version=0\.0\.4/);
  assert.match(r.text, /# TYPE comms_api_http_requests_total counter/);
  assert.match(r.text, /# TYPE comms_api_http_request_duration_seconds histogram/);
  assert.match(r.text, /^comms_api_build_info\{version="\d+\.\d+\.\d+[^"]*"\} 1$/m);
});

Metrics('counts requests by the matched route pattern, not the raw path', async ({ w, scrape }) => {
  await call('GET', `${w.server.api}/agents/agent-1`, { token: w.operator });
  await call('GET', `${w.server.api}/agents/nobody`, { token: w.operator });
  const text = await scrape();
  assert.is(sample(text, 'comms_api_http_requests_total', { route: '/api/v1/agents/:uuid', status: '200' }), 1);
  assert.is(sample(text, 'comms_api_http_requests_total', { route: '/api/v1/agents/:uuid', status: '404' }), 1);
  assert.not.match(text, /route="\/api\/v1\/agents\/agent-1"/);
  assert.ok(sample(text, 'comms_api_http_request_duration_seconds_count', { route: '/api/v1/agents/:uuid', method: 'GET' })! >= 2);
  await call('GET', `${w.server.api}/no/such/thing`);
  const after = await scrape();
  assert.is(sample(after, 'comms_api_http_requests_total', { route: 'unmatched', status: '404' }), 1);
});

Metrics('counts journal appends by type and group-commit batches and their fsync time', async ({ w, scrape }) => {
  const before = await scrape();
  const appends0 = sample(before, 'comms_api_journal_appends_total', { type: 'StatelessEventsReceived' }) ?? 0;
  const commits0 = sample(before, 'comms_api_group_commit_seconds_count') ?? 0;
  await Promise.all(
    [1, 2, 3].map(() =>
      call('POST', `${w.server.api}/events/stateless`, { token: w.agents['agent-1'], body: statelessBatch(2), type: 'application/x-ndjson' }),
    ),
  );
  const text = await scrape();
  assert.is(sample(text, 'comms_api_journal_appends_total', { type: 'StatelessEventsReceived' }), appends0 + 3);
  const commits = sample(text, 'comms_api_group_commit_seconds_count')!;
  assert.ok(commits > commits0 && commits <= commits0 + 3, `commits ${commits0} → ${commits}`);
  assert.ok(sample(text, 'comms_api_group_commit_jobs_sum')! >= 3);
  assert.ok(sample(text, 'comms_api_journal_head_seq')! > 0);
  assert.ok(sample(text, 'comms_api_journal_size_bytes')! > 0);
  assert.is(sample(text, 'comms_api_journal_quota_bytes'), 20 * 1024 ** 3);
});

Metrics('pipelines: state as its own gauge, lag in entries, events and seconds, counters named _total', async ({ w, scrape }) => {
  // no engine is listening in this world: the engine pipeline retries, its backlog grows
  await call('POST', `${w.server.api}/events/stateless`, { token: w.agents['agent-1'], body: statelessBatch(5), type: 'application/x-ndjson' });
  await new Promise((r) => setTimeout(r, 1100));
  const text = await scrape();
  assert.match(text, /# TYPE comms_api_pipeline_state gauge/);
  const states = ['running', 'caught-up', 'retrying', 'down', 'off'].map((state) => sample(text, 'comms_api_pipeline_state', { pipeline: 'engine', state }));
  assert.is(states.reduce((a, b) => a! + b!, 0), 1, 'exactly one state is 1');
  assert.is(sample(text, 'comms_api_pipeline_state', { pipeline: 'indexer', state: 'off' }), 1);
  assert.ok(sample(text, 'comms_api_pipeline_lag_entries', { pipeline: 'engine' })! >= 4, 'the unsent batches');
  assert.ok(sample(text, 'comms_api_pipeline_lag_events', { pipeline: 'engine' })! >= 11, 'the events in them (5 + 3 × 2)');
  assert.ok(sample(text, 'comms_api_pipeline_lag_seconds', { pipeline: 'engine' })! >= 1, 'the age of the oldest');
  assert.match(text, /# TYPE comms_api_pipeline_retries_total counter/);
  assert.match(text, /# TYPE comms_api_pipeline_delivered_events_total counter/);
  assert.not.match(text, /comms_api_pipeline_throughput/);
  assert.not.match(text, /^comms_api_pipeline_lag\{/m);
});

Metrics('logins by outcome, agents by status, streams and long-polls apart, open dead letters', async ({ w, scrape }) => {
  const before = await scrape();
  await call('POST', `${w.server.api}/login`, { json: { username: 'olga', password: 'not the password' } });
  const s = await openSse(`${w.server.api}/commands`, { token: w.agents['agent-1'] });
  const poll = call('GET', `${w.server.api}/commands?wait=3`, { token: w.agents['agent-1'] });
  try {
    await new Promise((r) => setTimeout(r, 300));
    const text = await scrape();
    assert.is(sample(text, 'comms_api_logins_total', { outcome: 'bad_credentials' }), (sample(before, 'comms_api_logins_total', { outcome: 'bad_credentials' }) ?? 0) + 1);
    assert.ok(sample(text, 'comms_api_logins_total', { outcome: 'ok' })! >= 3, 'the operator, the auditor and the agent');
    assert.is(sample(text, 'comms_api_logins_total', { outcome: 'throttled' }), 0);
    assert.is(sample(text, 'comms_api_agents', { status: 'active' }), 1);
    assert.is(sample(text, 'comms_api_agents', { status: 'never_connected' }), 0);
    assert.is(sample(text, 'comms_api_sse_open_streams'), 1);
    assert.is(sample(text, 'comms_api_long_polls_waiting'), 1);
    assert.match(text, /# TYPE comms_api_dead_letters_open gauge/);
    assert.match(text, /# TYPE comms_api_checkpoint_seq gauge/);
  } finally {
    s.close();
    await poll;
  }
});

const Access = suite('who may read /metrics');
Access('direct loopback callers scrape freely; a request that came through a proxy (forwarding header) needs a metrics or operator credential', async () => {
  const w = await startWorld({ 'agent-1': [] });
  try {
    const url = `${w.server.url}/metrics`;
    assert.is((await call('GET', url)).status, 200, 'a direct loopback caller (API.md)');
    for (const header of ['x-forwarded-for', 'forwarded', 'x-real-ip', 'via']) {
      const proxied = { [header]: header === 'forwarded' ? 'for=203.0.113.9' : '203.0.113.9' };
      assert.is((await call('GET', url, { headers: proxied })).status, 401, `${header}: a proxy on this host is not loopback`);
    }
    const proxied = { 'x-forwarded-for': '203.0.113.9' };
    assert.is((await call('GET', url, { headers: proxied, token: w.agents['agent-1'] })).status, 403);
    assert.is((await call('GET', url, { headers: proxied, token: w.auditor })).status, 403);
    assert.is((await call('GET', url, { headers: proxied, token: w.operator })).status, 200);
  } finally {
    await w.server.stop();
  }
});
Access('the role check admits a metrics credential to /metrics and refuses it everywhere else', async () => {
  const ctxWith = (role: string) => ({ state: { principal: { sub: 'scraper', role, actor: 'user:scraper' } } }) as never;
  let reached = 0;
  await requireRole('metrics', 'operator')(ctxWith('metrics'), async () => void (reached += 1));
  assert.is(reached, 1);
  try {
    await requireRole('operator')(ctxWith('metrics'), async () => void (reached += 1));
    assert.unreachable();
  } catch (e) {
    assert.is((e as { status: number }).status, 403);
  }
  assert.is(reached, 1);
});
Access('the metrics-only listener (loopback by default) needs no credential and serves /metrics only', async () => {
  const w = await startWorld({}, { COMMS_API_METRICS_PORT: '0' });
  try {
    const listener = w.server.metricsUrl!;
    assert.match(listener, /^http:\/\/127\.0\.0\.1:\d+$/);
    const r = await call('GET', `${listener}/metrics`);
    assert.is(r.status, 200);
    assert.match(r.text, /comms_api_build_info/);
    assert.is((await call('GET', `${listener}/api/v1/agents`, { token: w.operator })).status, 404);
    assert.is((await call('POST', `${listener}/metrics`)).status, 405);
  } finally {
    await w.server.stop();
  }
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
    for (const l of lines) {
      assert.type(l.level, 'string', 'level names, not numbers');
      assert.match(String(l.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    }
    assert.match(String(lines[0]!.msg), /^comms-api serving on http:\/\/127\.0\.0\.1:\d+$/, 'the start line is a record');
    assert.ok(server.output().split('\n').every((l) => l === '' || l.startsWith('{')), 'nothing but JSON on stdout');
    for (const l of lines.filter((x) => x.msg === 'request')) assert.type(l.reqId, 'string');
    const all = server.output();
    for (const secret of [password, 'wrong-password-xyz', AGENT_KEY, op, agent, op.split('.')[2]!]) {
      assert.not.ok(all.includes(secret), 'a secret reached the log');
    }
  } finally {
    await server.kill();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

Logs('a W3C traceparent is kept on the request\'s log lines and echoed; a malformed one is ignored', async () => {
  const dataDir = tempDir();
  const server = await spawnServer(dataDir, { COMMS_API_LOG_LEVEL: 'info' });
  try {
    const tp = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const r = await call('GET', `${server.api}/health`, { headers: { traceparent: tp, 'x-request-id': 'traced-1' } });
    assert.is(r.headers.get('traceparent'), tp);
    const bad = await call('GET', `${server.api}/health`, { headers: { traceparent: '00-nothex-00f067aa0ba902b7-01', 'x-request-id': 'traced-2' } });
    assert.is(bad.headers.get('traceparent'), null);
    const deadline = Date.now() + 10_000;
    while (!server.output().includes('traced-2') && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
    const lines = server.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.is(lines.find((l) => l.reqId === 'traced-1')!.traceparent, tp);
    assert.is(lines.find((l) => l.reqId === 'traced-2')!.traceparent, undefined);
  } finally {
    await server.kill();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

Metrics.run();
Access.run();
Health.run();
Logs.run();
