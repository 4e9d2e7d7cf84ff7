/**
 * Big batches beside small requests (issue 12, item 5): one agent posts ~10 MB stateless batches
 * (260,000 tiny events each) back to back over one connection while a second client probes
 * `GET /api/v1/health` and an agent login one after the other (a new connection each, 5 ms apart).
 * The probes' p50/p99/max are measured first with no big batch in flight, then with them, in the
 * same run (target: loaded p99 ≤ 100 ms), beside the server's own event-loop delay over each phase
 * (prom-client's monitorEventLoopDelay, read from /metrics).
 *
 * Run: node --import tsx bench/bigBatches.bench.ts [--seconds 8] [--idempotency]
 *   (`npm run bench -- bigBatches` builds first; the server under test is the built CLI.)
 * Profile the server: BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof".
 */
import { execSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { percentile, sleep, startCommsApi } from './lib/commsApi.js';
import { report, type Row } from './support.js';

const opts = parseArgs({ options: { seconds: { type: 'string', default: '8' }, idempotency: { type: 'boolean', default: false } } }).values;
const SECONDS = Number(opts.seconds);
const KEY = 'bigBatchBenchKey0123456789abcdef';
const EVENTS = 260_000;
const TARGET_P99_MS = 100;

function hugeBatch(): Buffer {
  return Buffer.from(`{"agent":{"name":"bench"}}\n${'{"module":"m","collector":"c"}\n{"i":1}\n'.repeat(EVENTS)}`);
}

/** One request on a fresh connection (as a new client would), timed to its last byte. */
function timed(port: number, method: string, path: string, headers: Record<string, string> = {}, body?: Buffer): Promise<{ status: number; ms: number; text: string }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started, text: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Health and login probes, alternately, until `until`; their latencies. */
async function probe(port: number, until: number): Promise<{ health: number[]; login: number[] }> {
  const health: number[] = [];
  const login: number[] = [];
  const credentials = Buffer.from(JSON.stringify({ uuid: 'probe', key: KEY }));
  for (let i = 0; Date.now() < until; i++) {
    if (i % 2 === 0) health.push((await timed(port, 'GET', '/api/v1/health')).ms);
    else {
      const r = await timed(port, 'POST', '/api/v1/login', { 'content-type': 'application/json' }, credentials);
      if (r.status !== 200) throw new Error(`probe login: ${r.status} ${r.text}`);
      login.push(r.ms);
    }
    await sleep(5);
  }
  return { health, login };
}

/** The server's event-loop delay since the last scrape (prom-client resets its histogram on each collect), in ms. */
async function loopDelay(port: number): Promise<{ p99: number; max: number }> {
  const text = (await timed(port, 'GET', '/metrics')).text;
  const value = (name: string) => Number(new RegExp(`^comms_api_${name} ([0-9.e+-]+)$`, 'm').exec(text)?.[1] ?? NaN) * 1000;
  return { p99: value('nodejs_eventloop_lag_p99_seconds'), max: value('nodejs_eventloop_lag_max_seconds') };
}

const dir = mkdtempSync(join(tmpdir(), 'comms-api-bigbatch-'));
const server = await startCommsApi(join(dir, 'data'));
const rows: Row[] = [];
try {
  for (const uuid of ['loader', 'probe']) {
    const r = await server.admin('POST', '/api/v1/agents', { uuid, key: KEY });
    if (r.status !== 201) throw new Error(`register ${uuid}: ${r.status} ${JSON.stringify(r.body)}`);
  }
  const login = await timed(server.port, 'POST', '/api/v1/login', { 'content-type': 'application/json' }, Buffer.from(JSON.stringify({ uuid: 'loader', key: KEY })));
  const token = (JSON.parse(login.text) as { token: string }).token;
  const body = hugeBatch();
  const load = execSync('uptime').toString().trim().replace(/.*load average: /, '');

  await loopDelay(server.port);
  const idle = await probe(server.port, Date.now() + SECONDS * 1000);
  const idleLoop = await loopDelay(server.port);

  let stop = false;
  const batchMs: number[] = [];
  const loader = (async () => {
    for (let n = 0; !stop; n++) {
      const headers: Record<string, string> = { authorization: `Bearer ${token}`, 'content-type': 'application/x-ndjson' };
      if (opts.idempotency) headers['idempotency-key'] = `bench-${n}`;
      const r = await timed(server.port, 'POST', '/api/v1/events/stateless', headers, body);
      if (r.status !== 202) throw new Error(`big batch: ${r.status} ${r.text.slice(0, 300)}`);
      batchMs.push(r.ms);
    }
  })();
  await sleep(300); // the first batch is being received and parsed
  await loopDelay(server.port);
  const loaded = await probe(server.port, Date.now() + SECONDS * 1000);
  const loadedLoop = await loopDelay(server.port);
  stop = true;
  await loader;

  const label = `${(body.length / 1e6).toFixed(1)} MB batches back to back${opts.idempotency ? ' (Idempotency-Key)' : ''}`;
  for (const [name, base, during] of [['GET /health', idle.health, loaded.health], ['POST /login (agent)', idle.login, loaded.login]] as const) {
    for (const p of [50, 99, 100]) {
      const value = percentile(during, p);
      const baseline = percentile(base, p);
      const metric = p === 100 ? 'max ms' : `p${p} ms`;
      rows.push({
        bench: 'bigBatches',
        case: `${name} during ${label}`,
        metric,
        value,
        baseline,
        ratio: value / baseline,
        ...(p === 99 ? { target: `≤ ${TARGET_P99_MS} ms`, met: value <= TARGET_P99_MS } : {}),
      });
    }
    rows.push({ bench: 'bigBatches', case: `${name} during ${label}`, metric: 'probes', value: during.length, baseline: base.length });
  }
  for (const k of ['p99', 'max'] as const) {
    rows.push({ bench: 'bigBatches', case: `server event-loop delay during ${label}`, metric: `${k} ms`, value: loadedLoop[k], baseline: idleLoop[k], ratio: loadedLoop[k] / idleLoop[k] });
  }
  rows.push({ bench: 'bigBatches', case: label, metric: 'batches acknowledged', value: batchMs.length });
  rows.push({ bench: 'bigBatches', case: label, metric: 'batch p50 ms (post → 202)', value: percentile(batchMs, 50) });
  rows.push({ bench: 'bigBatches', case: label, metric: 'load average at start', value: Number(load.split(/[ ,]+/)[0]) });
  report('bigBatches', rows);
} finally {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
