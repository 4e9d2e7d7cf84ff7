/**
 * Sustained end to end: simulated agents send at a fixed OFFERED rate (open loop: requests leave on
 * a schedule whatever the answers do; more than `MAX_IN_FLIGHT` unanswered requests and the step
 * fails) with the engine pipeline (reference engine, `--record count`) and the indexer pipeline
 * (real OpenSearch) live; the rate steps up; a step is sustained when no request failed or had to
 * be skipped and, over its second half, engine lag < 2 s of events (events acknowledged by the
 * server − events the engine accepted) and indexer lag < 5 s of items (journal rows behind the
 * `sink:indexer` checkpoint × items per row).
 *
 * Each kind's steps follow 20 s of warm-up at 30 % (not measured: the live server's checker thread
 * starting, the JIT, OpenSearch settling).
 *
 * Beside it, in the same run: the ingest-only maximum (closed loop, 16 in flight, a separate server
 * and data folder with no engine and no indexer) for stateless events, and OpenSearch's own
 * direct `_bulk` rate (bench/lib/statefulLoad.ts, 2,000 actions per request, 3 in flight) for
 * stateful items: the stateful ceiling. Plain HTTP (the client's TLS cost is not the question here).
 *
 * Run: node --import tsx bench/sustained.bench.ts [--step-seconds 180] [--stateless-steps 0.3,0.4,0.5,0.65,0.8]
 *        [--stateful-steps 0.4,0.6,0.8,1] [--only stateless|stateful]
 * Time: ~1 min of set-up + the steps (stops stepping at the first step that is not sustained):
 * with the defaults at most 9 × 3 min + 1 min of measuring baselines ≈ 30 min.
 */
import { execSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startEngine, type EngineHandle } from '../test/support/engine/engine.js';
import { startOpenSearch } from '../test/support/opensearch/node.js';
import { jsonRequest, pool, sleep, startCommsApi, type BenchServer } from './lib/commsApi.js';
import { bulkBodies, directBulk } from './lib/statefulLoad.js';
import { cpuSeconds, report, type Row } from './support.js';

const opts = parseArgs({
  options: {
    'step-seconds': { type: 'string', default: '180' },
    'stateless-steps': { type: 'string', default: '0.3,0.4,0.5,0.65,0.8' },
    'stateful-steps': { type: 'string', default: '0.4,0.6,0.8,1' },
    agents: { type: 'string', default: '20' },
    only: { type: 'string' },
  },
}).values;
const STEP_S = Number(opts['step-seconds']);
const STATELESS_STEPS = opts['stateless-steps']!.split(',').map(Number);
const STATEFUL_STEPS = opts['stateful-steps']!.split(',').map(Number);
const AGENTS = Number(opts.agents);
const EVENTS_PER_REQUEST = 100;
const ITEMS_PER_REQUEST = 100;
const MAX_IN_FLIGHT = 256;
const ENGINE_LAG_S = 2;
const INDEXER_LAG_S = 5;
const KEY = 'sustainedKey0123456789abcdefABCD';
/** The run outlasts the default 15-minute token, and the simulated agents log in once. */
const TOKEN_TTL = String(6 * 3600);
const agentId = (i: number) => `sustained-${String(i).padStart(4, '0')}`;

const load = () => execSync('uptime').toString().trim().replace(/.*load average: /, '');
const rows: Row[] = [];
const row = (r: Omit<Row, 'bench'>) => rows.push({ bench: 'sustained', ...r });

// ---------------------------------------------------------------- bodies (≈ 215 bytes per event)

let counter = 0;
/** Stateless bodies are made before the run, a few per agent, so the load generator's CPU goes to sending. */
const STATELESS_POOL = 32;
const statelessPool = new Map<string, string[]>();
function pooledStatelessBody(agent: string): string {
  let pool = statelessPool.get(agent);
  if (!pool) statelessPool.set(agent, (pool = Array.from({ length: STATELESS_POOL }, () => statelessBody(agent))));
  return pool[counter++ % STATELESS_POOL]!;
}
function statelessBody(agent: string): string {
  let out = `{"agent":{"id":"${agent}","name":"sim","version":"4.9.0"}}\n`;
  for (let i = 0; i < EVENTS_PER_REQUEST; i++) {
    const n = counter++;
    out += `{"module":"logcollector","collector":"file"}\n{"ts":"2026-12-01T00:00:00.000Z","location":"/var/log/auth.log","n":${n},"message":"sshd[${1000 + (n % 9000)}]: Accepted publickey for admin from 127.0.0.1 port ${20000 + (n % 40000)} ssh2"}\n`;
  }
  return out;
}
function statefulBody(agent: string): string {
  let out = `{"agent":{"id":"${agent}","name":"sim"}}\n`;
  for (let i = 0; i < ITEMS_PER_REQUEST; i++) {
    const n = counter++;
    out += `{"id":"item-${n}","module":"sustained","operation":"create"}\n{"file":{"path":"/etc/bench/${n % 997}/file-${n}.conf","size":${1024 + (n % 4096)}},"n":${n}}\n`;
  }
  return out;
}

// ---------------------------------------------------------------- the simulated fleet

interface Fleet {
  /** One request; resolves with whether the server acknowledged it (202). */
  send(kind: 'stateless' | 'stateful'): Promise<boolean>;
  /** How many answers were not 202, by status ('error' for no answer), since the last call. */
  refusals(): Record<string, number>;
  close(): void;
}

async function fleet(server: BenchServer): Promise<Fleet> {
  await pool(
    Array.from({ length: AGENTS }, (_, i) => agentId(i)),
    8,
    async (uuid) => {
      const r = await server.admin('POST', '/api/v1/agents', { uuid, key: KEY });
      if (r.status !== 201 && r.status !== 409) throw new Error(`register ${uuid}: ${r.status}`);
    },
  );
  const tokens = await pool(
    Array.from({ length: AGENTS }, (_, i) => agentId(i)),
    8,
    async (uuid) => (await jsonRequest<{ token: string }>({ host: '127.0.0.1', port: server.port }, 'POST', '/api/v1/login', { uuid, key: KEY })).body.token,
  );
  for (let i = 0; i < AGENTS; i++) pooledStatelessBody(agentId(i));
  const agent = new http.Agent({ keepAlive: true, maxSockets: MAX_IN_FLIGHT });
  let next = 0;
  let refused: Record<string, number> = {};
  const refuse = (why: string) => (refused[why] = (refused[why] ?? 0) + 1);
  return {
    refusals() {
      const r = refused;
      refused = {};
      return r;
    },
    send(kind) {
      const i = next++ % AGENTS;
      const body = kind === 'stateless' ? pooledStatelessBody(agentId(i)) : statefulBody(agentId(i));
      const path = kind === 'stateless' ? '/api/v1/events/stateless' : '/api/v1/events/stateful?wait=0';
      return new Promise((resolve) => {
        const req = http.request(
          { host: '127.0.0.1', port: server.port, agent, method: 'POST', path, headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${tokens[i]}`, 'content-length': Buffer.byteLength(body) } },
          (res) => {
            res.resume();
            res.on('end', () => {
              if (res.statusCode !== 202) refuse(String(res.statusCode));
              resolve(res.statusCode === 202);
            });
          },
        );
        req.on('error', () => {
          refuse('error');
          resolve(false);
        });
        req.end(body);
      });
    },
    close: () => agent.destroy(),
  };
}

/** Closed loop, `inFlight` requests at a time, for `seconds`: the ingest-only maximum (units/s). */
async function closedLoop(f: Fleet, kind: 'stateless' | 'stateful', seconds: number, inFlight = 16): Promise<number> {
  const until = performance.now() + seconds * 1000;
  let ok = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() < until) if (await f.send(kind)) ok += 1;
    }),
  );
  return (ok * (kind === 'stateless' ? EVENTS_PER_REQUEST : ITEMS_PER_REQUEST)) / seconds;
}

interface Step {
  rate: number;
  sustained: boolean;
  acked: number;
  failed: number;
  skipped: number;
  maxLagS: number;
  endLagS: number;
  serverCpu: number;
  /** CPU-seconds of the engine process and of this load generator during the step. */
  engineCpu: number;
  benchCpu: number;
  /** Answer times of the step's requests (ms): p99 and the longest. */
  p99Ms: number;
  maxMs: number;
  /** The answers that were not 202, by status. */
  refusals: Record<string, number>;
}

/**
 * Open loop at `rate` units/s for STEP_S seconds; `lagUnits()` samples the pipeline's lag (units)
 * every 500 ms; after the step, waits (bounded) for the lag to drain so the next step starts clean.
 */
async function openLoop(f: Fleet, kind: 'stateless' | 'stateful', rate: number, lagUnits: (acked: number) => Promise<number>, limitS: number, pid: number, enginePid: number): Promise<Step> {
  const perRequest = kind === 'stateless' ? EVENTS_PER_REQUEST : ITEMS_PER_REQUEST;
  const reqRate = rate / perRequest;
  let sent = 0;
  let inFlight = 0;
  let acked = 0;
  let failed = 0;
  let skipped = 0;
  f.refusals();
  const t0 = performance.now();
  const c0 = cpuSeconds(pid);
  const e0 = cpuSeconds(enginePid);
  const b0 = process.cpuUsage();
  const lags: Array<{ t: number; lag: number }> = [];
  const times: number[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      await sleep(500);
      lags.push({ t: (performance.now() - t0) / 1000, lag: await lagUnits(acked * perRequest) });
    }
  })();
  await new Promise<void>((resolve) => {
    const tick = () => {
      const elapsed = (performance.now() - t0) / 1000;
      if (elapsed >= STEP_S) return resolve();
      const due = Math.floor(elapsed * reqRate);
      while (sent < due) {
        sent += 1;
        if (inFlight >= MAX_IN_FLIGHT) {
          skipped += 1;
          continue;
        }
        inFlight += 1;
        const sentAt = performance.now();
        void f.send(kind).then((ok) => {
          times.push(performance.now() - sentAt);
          inFlight -= 1;
          if (ok) acked += 1;
          else failed += 1;
        });
      }
      setTimeout(tick, 5);
    };
    tick();
  });
  while (inFlight > 0) await sleep(20);
  sampling = false;
  await sampler;
  const serverCpu = cpuSeconds(pid) - c0;
  const engineCpu = cpuSeconds(enginePid) - e0;
  const b = process.cpuUsage(b0);
  const benchCpu = (b.user + b.system) / 1e6;
  const secondHalf = lags.filter((l) => l.t >= STEP_S / 2);
  const maxLagS = Math.max(0, ...secondHalf.map((l) => l.lag)) / rate;
  const endLagS = (lags.at(-1)?.lag ?? 0) / rate;
  // let the pipeline catch up (bounded) before the next step
  const until = Date.now() + 120_000;
  while (Date.now() < until && (await lagUnits(acked * perRequest)) > 0) await sleep(500);
  times.sort((a, b) => a - b);
  const p99Ms = times[Math.floor(times.length * 0.99)] ?? 0;
  const maxMs = times.at(-1) ?? 0;
  const refusals = f.refusals();
  return { rate, sustained: failed === 0 && skipped === 0 && maxLagS < limitS, acked, failed, skipped, maxLagS, endLagS, serverCpu, engineCpu, benchCpu, p99Ms, maxMs, refusals };
}

/** `WARM_UP_S` seconds at `rate` units/s, open loop, not measured; then a pause for the pipelines to catch up. */
const WARM_UP_S = 20;
async function warmUp(f: Fleet, kind: 'stateless' | 'stateful', rate: number): Promise<void> {
  const perRequest = kind === 'stateless' ? EVENTS_PER_REQUEST : ITEMS_PER_REQUEST;
  const every = 1000 / (rate / perRequest);
  const until = performance.now() + WARM_UP_S * 1000;
  const sent: Array<Promise<boolean>> = [];
  while (performance.now() < until) {
    sent.push(f.send(kind));
    await sleep(every);
  }
  await Promise.all(sent);
  f.refusals();
  await sleep(5000);
}

async function indexerLagRows(server: BenchServer): Promise<number> {
  const s = await server.admin<{ pipelines: { indexer?: { lag: number } } }>('GET', '/api/v1/journal/stats');
  return s.body.pipelines.indexer?.lag ?? 0;
}

const pct = (cpu: number) => ((cpu / STEP_S) * 100).toFixed(0);

function stepRows(kind: string, steps: Step[], ceiling: number, limitS: number, ceilingName: string, target?: { ratio: number; text: string }): void {
  for (const s of steps) {
    row({
      case: `${kind}, offered ${Math.round(s.rate).toLocaleString('en')}/s (${Math.round((s.rate / ceiling) * 100)} % of ${ceilingName})`,
      metric: `max lag, 2nd half (s of ${kind === 'stateless' ? 'events' : 'items'}); failed/skipped ${s.failed}/${s.skipped}; answers p99/max ${Math.round(s.p99Ms)}/${Math.round(s.maxMs)} ms; CPU server/${kind === 'stateless' ? 'engine' : 'OpenSearch'}/load generator ${pct(s.serverCpu)}/${pct(s.engineCpu)}/${pct(s.benchCpu)} % of a core`,
      value: s.maxLagS,
      target: `< ${limitS} s`,
      met: s.sustained,
    });
  }
  const best = steps.filter((s) => s.sustained).reduce((m, s) => Math.max(m, s.rate), 0);
  row({
    case: `${kind}: highest sustained offered rate`,
    metric: `${kind === 'stateless' ? 'events' : 'items'}/s (beside ${ceilingName})`,
    value: best,
    baseline: ceiling,
    ratio: best / ceiling,
    ...(target ? { target: target.text, met: best / ceiling >= target.ratio } : {}),
  });
}

// ---------------------------------------------------------------- the run

const dir = mkdtempSync(join(tmpdir(), 'bench-sustained-'));
let engine: EngineHandle | null = null;
let os: Awaited<ReturnType<typeof startOpenSearch>> | null = null;
let server: BenchServer | null = null;
try {
  console.log(`sustained: ${STEP_S} s per step, ${AGENTS} agents, ${EVENTS_PER_REQUEST} events (≈ 21 KB) / ${ITEMS_PER_REQUEST} items per request; load average ${load()}`);
  // ingest-only maximum: its own server and data folder, nothing draining
  let ingestMax = 0;
  let statefulIngestMax = 0;
  {
    const alone = await startCommsApi(join(dir, 'ingest-only'), { COMMS_API_ENGINE_SOCKET: join(dir, 'no-engine.sock'), COMMS_API_TOKEN_TTL: TOKEN_TTL });
    try {
      const f = await fleet(alone);
      await closedLoop(f, 'stateless', 5); // warm-up
      const l = load();
      ingestMax = await closedLoop(f, 'stateless', 30);
      statefulIngestMax = await closedLoop(f, 'stateful', 20);
      f.close();
      console.log(`ingest only: ${Math.round(ingestMax)} events/s, ${Math.round(statefulIngestMax)} items/s (load ${l})`);
      row({ case: `ingest only, closed loop, 16 in flight (load ${l})`, metric: 'stateless events/s', value: ingestMax });
      row({ case: 'ingest only, closed loop, 16 in flight', metric: 'stateful items/s (journaled, no indexer)', value: statefulIngestMax });
    } finally {
      await alone.stop();
    }
  }

  engine = await startEngine({ record: 'count' });
  os = await startOpenSearch();
  server = await startCommsApi(join(dir, 'live'), { COMMS_API_ENGINE_SOCKET: engine.socket, COMMS_API_INDEXER_URL: os.url, COMMS_API_TOKEN_TTL: TOKEN_TTL });
  const f = await fleet(server);
  const pid = server.pid;

  if (opts.only !== 'stateful') {
    const steps: Step[] = [];
    const accepted = async () => (await engine!.stats()).accepted_events;
    // not measured: the live server's first seconds (its checker thread starting, the JIT, OpenSearch settling)
    await warmUp(f, 'stateless', 0.3 * ingestMax);
    for (const fraction of STATELESS_STEPS) {
      const base = await accepted();
      const l = load();
      const s = await openLoop(f, 'stateless', fraction * ingestMax, async (ackedEvents) => Math.max(0, ackedEvents - ((await accepted()) - base)), ENGINE_LAG_S, pid, engine!.pid);
      console.log(`stateless ${Math.round(s.rate)}/s: ${s.sustained ? 'sustained' : 'NOT sustained'}, max lag ${s.maxLagS.toFixed(2)} s, end lag ${s.endLagS.toFixed(2)} s, failed ${s.failed} ${JSON.stringify(s.refusals)}, skipped ${s.skipped}, answers p99/max ${Math.round(s.p99Ms)}/${Math.round(s.maxMs)} ms, CPU server/engine/generator ${pct(s.serverCpu)}/${pct(s.engineCpu)}/${pct(s.benchCpu)} % (load ${l})`);
      steps.push(s);
      if (!s.sustained) break;
    }
    stepRows('stateless', steps, ingestMax, ENGINE_LAG_S, 'the ingest-only max', { ratio: 0.8, text: '≥ 80 % of ingest-only' });
  }

  if (opts.only !== 'stateless') {
    // the stateful ceiling: OpenSearch's own direct bulk (the server has put the templates by now)
    await sleep(3000);
    await directBulk(os.url, bulkBodies(20_000, 'wazuh-states-sustained-warm-up'), 20_000);
    const l = load();
    const direct = await directBulk(os.url, bulkBodies(100_000, 'wazuh-states-sustained-direct'), 100_000);
    console.log(`direct bulk: ${Math.round(direct.itemsPerSecond)} items/s (load ${l})`);
    row({ case: `direct _bulk, 100k items, 2,000 per request, 3 in flight (load ${l})`, metric: 'items/s', value: direct.itemsPerSecond });
    const steps: Step[] = [];
    await warmUp(f, 'stateful', 0.3 * direct.itemsPerSecond);
    for (const fraction of STATEFUL_STEPS) {
      const ll = load();
      const s = await openLoop(f, 'stateful', fraction * direct.itemsPerSecond, async () => (await indexerLagRows(server!)) * ITEMS_PER_REQUEST, INDEXER_LAG_S, pid, os!.pid);
      console.log(`stateful ${Math.round(s.rate)}/s: ${s.sustained ? 'sustained' : 'NOT sustained'}, max lag ${s.maxLagS.toFixed(2)} s, end lag ${s.endLagS.toFixed(2)} s, failed ${s.failed} ${JSON.stringify(s.refusals)}, skipped ${s.skipped}, answers p99/max ${Math.round(s.p99Ms)}/${Math.round(s.maxMs)} ms, CPU server/OpenSearch/generator ${pct(s.serverCpu)}/${pct(s.engineCpu)}/${pct(s.benchCpu)} % (load ${ll})`);
      steps.push(s);
      if (!s.sustained) break;
    }
    // OpenSearch's own rate is the ceiling: the pipeline should carry most of it (the same 80 % as the engine's)
    stepRows('stateful', steps, direct.itemsPerSecond, INDEXER_LAG_S, 'direct _bulk', { ratio: 0.8, text: '≥ 80 % of direct _bulk (the ceiling)' });
  }
  f.close();
  console.log(`load average at the end: ${load()}`);
  report('sustained', rows);
} finally {
  await server?.stop();
  await engine?.stop();
  await os?.stop();
  rmSync(dir, { recursive: true, force: true });
}
