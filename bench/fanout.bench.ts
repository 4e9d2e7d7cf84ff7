/**
 * Command fan-out: N idle SSE agents (1,000 and 10,000 by default), one broadcast command
 * (`target: all`, via the admin socket) repeated, latency to the first and to the last recipient
 * measured with two probe streams held by this process — agent 0, connected first and served first
 * (targets are expanded in uuid order), and agent N-1, connected last and served last — plus the
 * latest receive time over every stream (held by two worker processes, same clock); the server's
 * RSS per connection; unicast latency under that load. Beside it, in the same run, the raw
 * node:http SSE baseline (bench/baseline/sseBaseline.ts) holding the same N streams.
 *
 * Then the same server over TLS (the default of `npm start`), from a fresh copy of the fixture, beside
 * the plain run: RSS per stream and latencies as ratios to plain (`--plain-only` skips it).
 *
 * Run: node --import tsx bench/fanout.bench.ts [--agents 1000,10000] [--big] [--repeats 10] [--unicasts 200] [--plain-only]
 *   --big (or FANOUT_BIG=1) adds 19,900 agents: the container's hard RLIMIT_NOFILE is 20,000, so one
 *   server process cannot hold 20,000 sockets plus its own files.
 * Agents are registered and logged in once through the public API and cached (bench/fanout/fixture.ts).
 */
import { fork, type ChildProcess } from 'node:child_process';
import type net from 'node:net';
import { rmSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { jsonRequest, percentile, sleep, startCommsApi } from './lib/commsApi.js';
import { agentsFixture, type BenchAgent } from './fanout/fixture.js';
import type { WorkerReply, WorkerRequest } from './fanout/clientWorker.js';
import { nowMs, openRawStream, SOURCE_ADDRESSES } from './fanout/rawSse.js';
import { cpuSeconds, report, ROOT, rssBytes, spawnReady, stopProcess, type Row } from './support.js';

const opts = parseArgs({
  options: {
    agents: { type: 'string', default: process.env.FANOUT_AGENTS ?? '1000,10000' },
    big: { type: 'boolean', default: process.env.FANOUT_BIG === '1' },
    repeats: { type: 'string', default: '10' },
    unicasts: { type: 'string', default: '200' },
    'plain-only': { type: 'boolean', default: false },
  },
}).values;
const SIZES = [...opts.agents!.split(',').map(Number), ...(opts.big ? [19_900] : [])];
const REPEATS = Number(opts.repeats);
const UNICASTS = Number(opts.unicasts);
const TLS = !opts['plain-only'];
const WORKERS = 2;
const WAIT_MS = 60_000;

// ---------------------------------------------------------------- worker processes

interface Worker {
  proc: ChildProcess;
  ask<T extends WorkerReply['type']>(m: WorkerRequest, reply: T): Promise<Extract<WorkerReply, { type: T }>>;
}

function startWorker(): Worker {
  const proc = fork(join(ROOT, 'bench/fanout/clientWorker.ts'), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const pending = new Map<string, Array<(m: WorkerReply) => void>>();
  proc.on('message', (m: WorkerReply) => pending.get(m.type)?.shift()?.(m));
  return {
    proc,
    ask: (m, reply) =>
      new Promise((resolve) => {
        if (!pending.has(reply)) pending.set(reply, []);
        pending.get(reply)!.push(resolve as (m: WorkerReply) => void);
        proc.send(m);
      }),
  };
}

// ---------------------------------------------------------------- the two servers under test

interface Target {
  name: 'comms-api' | 'comms-api TLS' | 'baseline';
  /** Streams over TLS (the server's generated self-signed pair, the default of `npm start`). */
  tls: boolean;
  pid: number;
  port: number;
  path: string;
  /** Issues a broadcast; resolves with the command id once the issuer got its answer. */
  broadcast(): Promise<string>;
  unicast(uuid: string): Promise<string>;
  /** The baseline only: the same write after one fsync'd SQLite commit (the floor of a durable command). */
  unicastJournaled?(uuid: string): Promise<string>;
  stop(): Promise<void>;
}

async function startBaseline(): Promise<Target> {
  const b = spawnReady(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/baseline/sseBaseline.ts')], /BASELINE READY http:\/\/127\.0\.0\.1:(\d+)/);
  const port = Number((await b.started)[1]);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  let n = 0;
  const post = async (path: string, body: Record<string, string>) => {
    const r = await jsonRequest({ host: '127.0.0.1', port, agent }, 'POST', path, body);
    if (r.status !== 200) throw new Error(`baseline ${path}: ${r.status}`);
    return body.id!;
  };
  return {
    name: 'baseline',
    tls: false,
    pid: b.proc.pid!,
    port,
    path: '/stream?agent={uuid}',
    broadcast: () => post('/broadcast', { id: `b${++n}` }),
    unicast: (uuid) => post('/unicast', { id: `u${++n}`, agent: uuid }),
    unicastJournaled: (uuid) => post('/unicast-journaled', { id: `j${++n}`, agent: uuid }),
    async stop() {
      agent.destroy();
      await stopProcess(b.proc);
    },
  };
}

async function startOurs(dataDir: string, tls: boolean): Promise<Target> {
  const s = await startCommsApi(dataDir, tls ? { COMMS_API_INSECURE_HTTP: '0' } : {});
  const issue = async (target: Record<string, string>) => {
    const r = await s.admin<{ id: string }>('POST', '/api/v1/commands', { action: { name: 'restart', args: {} }, target });
    if (r.status !== 201) throw new Error(`issue: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.id;
  };
  return {
    name: tls ? 'comms-api TLS' : 'comms-api',
    tls,
    pid: s.pid,
    port: s.port,
    path: '/api/v1/commands',
    broadcast: () => issue({ type: 'all' }),
    unicast: (uuid) => issue({ type: 'agent', id: uuid }),
    stop: () => s.stop(),
  };
}

// ---------------------------------------------------------------- measuring

/** Waits until the process uses less than ~10% of a core (CommandDelivered journaling done, GC settled). */
async function waitIdle(pid: number): Promise<void> {
  const until = Date.now() + 15_000;
  while (Date.now() < until) {
    const c0 = cpuSeconds(pid);
    await sleep(300);
    if (cpuSeconds(pid) - c0 < 0.03) return;
  }
}

/** A probe stream held by this process; `at(id)` resolves with the receive time of that command. */
async function probe(target: Target, agent: BenchAgent, address: string) {
  const seen = new Map<string, number>();
  const waiting = new Map<string, (at: number) => void>();
  let dropped = false;
  const socket: net.Socket = await openRawStream(
    { host: '127.0.0.1', port: target.port, path: target.path.replace('{uuid}', agent.uuid), token: agent.token, localAddress: address, tls: target.tls },
    (id, at) => {
      seen.set(id, at);
      waiting.get(id)?.(at);
    },
    () => (dropped = true),
  );
  return {
    socket,
    dropped: () => dropped,
    at: (id: string) =>
      new Promise<number>((resolve, reject) => {
        const known = seen.get(id);
        if (known !== undefined) return resolve(known);
        const timer = setTimeout(() => reject(new Error(`probe ${agent.uuid} never got ${id}`)), WAIT_MS);
        waiting.set(id, (at) => {
          clearTimeout(timer);
          resolve(at);
        });
      }),
  };
}

interface Figures {
  rssPerConnKb: number;
  first: number[];
  lastProbe: number[];
  lastAll: number[];
  unicast: number[];
  /** The baseline's unicasts after one fsync'd commit each (empty for comms-api). */
  unicastJournaled: number[];
  delivered: number;
}

async function measure(target: Target, agents: BenchAgent[], workers: Worker[]): Promise<Figures> {
  const n = agents.length;
  await waitIdle(target.pid);
  const rssBefore = rssBytes(target.pid);
  const firstProbe = await probe(target, agents[0]!, SOURCE_ADDRESSES[0]!);
  const middle = agents.slice(1, n - 1);
  const share = Math.ceil(middle.length / workers.length);
  const parts = workers.map((_, w) => middle.slice(w * share, (w + 1) * share));
  const connected = await Promise.all(
    workers.map((w, i) =>
      w.ask({ type: 'connect', host: '127.0.0.1', port: target.port, path: target.path, agents: parts[i]!, offset: 1 + i * share, concurrency: 64, tls: target.tls }, 'connected'),
    ),
  );
  for (const c of connected) if (c.failed > 0) throw new Error(`${target.name}: ${c.failed} streams refused (${c.error})`);
  const lastProbe = await probe(target, agents[n - 1]!, SOURCE_ADDRESSES[1]!);
  await waitIdle(target.pid);
  const rssPerConnKb = (rssBytes(target.pid) - rssBefore) / n / 1024;

  const f: Figures = { rssPerConnKb, first: [], lastProbe: [], lastAll: [], unicast: [], unicastJournaled: [], delivered: 0 };
  for (let r = 0; r <= REPEATS; r++) {
    await waitIdle(target.pid);
    const t0 = nowMs();
    const id = await target.broadcast();
    const [a, z, ...rest] = await Promise.all([
      firstProbe.at(id),
      lastProbe.at(id),
      ...workers.map((w, i) => w.ask({ type: 'wait', id, count: parts[i]!.length, timeoutMs: WAIT_MS }, 'waited')),
    ] as const);
    const got = (rest as Array<Extract<WorkerReply, { type: 'waited' }>>).reduce((s, x) => s + x.count, 2);
    if (got !== n) throw new Error(`${target.name}: broadcast ${id} reached ${got} of ${n} streams`);
    if (r === 0) continue; // warm-up
    f.delivered = got;
    f.first.push(a - t0);
    f.lastProbe.push(z - t0);
    f.lastAll.push(Math.max(a, z, ...(rest as Array<{ last: number }>).map((x) => x.last)) - t0);
  }
  const series = (v: number[]) => v.map((x) => Math.round(x)).join(' ');
  process.stderr.write(`  ${target.name}: broadcast first ms ${series(f.first)}; last ms ${series(f.lastProbe)}\n`);
  await waitIdle(target.pid);
  /** UNICASTS commands, one at a time, each to a random connected agent: issue → receive, in ms. */
  const unicasts = async (send: (uuid: string) => Promise<string>, into: number[]): Promise<void> => {
    for (let u = 0; u < UNICASTS; u++) {
      const w = Math.floor(Math.random() * workers.length);
      const pick = parts[w]![Math.floor(Math.random() * parts[w]!.length)]!;
      const t0 = nowMs();
      const id = await send(pick.uuid);
      const got = await workers[w]!.ask({ type: 'wait', id, count: 1, timeoutMs: WAIT_MS }, 'waited');
      if (got.count !== 1) throw new Error(`${target.name}: unicast ${id} to ${pick.uuid} not received`);
      into.push(got.first - t0);
    }
  };
  await unicasts((uuid) => target.unicast(uuid), f.unicast);
  if (target.unicastJournaled) await unicasts((uuid) => target.unicastJournaled!(uuid), f.unicastJournaled);
  const closed = await Promise.all(workers.map((w) => w.ask({ type: 'close' }, 'closed')));
  const dropped = closed.reduce((s, c) => s + c.dropped, 0) + (firstProbe.dropped() ? 1 : 0) + (lastProbe.dropped() ? 1 : 0);
  if (dropped > 0) throw new Error(`${target.name}: ${dropped} streams closed during the run (a reconnect would skew it)`);
  firstProbe.socket.destroy();
  lastProbe.socket.destroy();
  return f;
}

// ---------------------------------------------------------------- report

function rows(n: number, ours: Figures, base: Figures): Row[] {
  const c = `${n.toLocaleString('en')} agents`;
  const row = (metric: string, value: number, baseline: number, target?: { text: string; met: boolean }): Row => ({
    bench: 'fanout', case: c, metric, value, baseline, ratio: value / baseline, ...(target ? { target: target.text, met: target.met } : {}),
  });
  const p99 = (v: number[]) => percentile(v, 99);
  const p50 = (v: number[]) => percentile(v, 50);
  const out: Row[] = [
    row('RSS per stream KB', ours.rssPerConnKb, base.rssPerConnKb, n >= 19_900 ? { text: '≤ 15 KB', met: ours.rssPerConnKb <= 15 } : undefined),
    row('broadcast first ms p50', p50(ours.first), p50(base.first)),
    row('broadcast last (probe) ms p50', p50(ours.lastProbe), p50(base.lastProbe)),
    row('broadcast last (probe) ms p99', p99(ours.lastProbe), p99(base.lastProbe), n === 10_000 ? { text: '≤ 250 ms', met: p99(ours.lastProbe) <= 250 } : undefined),
    row('broadcast last (any stream) ms p99', p99(ours.lastAll), p99(base.lastAll)),
    row('unicast ms p50', p50(ours.unicast), p50(base.unicast)),
    row('unicast ms p99', p99(ours.unicast), p99(base.unicast), { text: '≤ 5 ms', met: p99(ours.unicast) <= 5 }),
    // the same unicasts beside a baseline that also commits each one to SQLite (fsync) before writing it
    row('unicast ms p50 vs journaled baseline', p50(ours.unicast), p50(base.unicastJournaled)),
    row('unicast ms p99 vs journaled baseline', p99(ours.unicast), p99(base.unicastJournaled)),
    row('streams that got each broadcast', ours.delivered, base.delivered),
  ];
  return out;
}

/** The TLS streams beside the plain ones of the same server build, same run (issue 13: ≤ 1.5× per stream). */
function tlsRows(n: number, tls: Figures, plain: Figures): Row[] {
  const c = `${n.toLocaleString('en')} agents, TLS vs plain`;
  const row = (metric: string, value: number, baseline: number, target?: { text: string; met: boolean }): Row => ({
    bench: 'fanout', case: c, metric, value, baseline, ratio: value / baseline, ...(target ? { target: target.text, met: target.met } : {}),
  });
  return [
    row('RSS per stream KB', tls.rssPerConnKb, plain.rssPerConnKb, { text: '≤ 150 % of plain', met: tls.rssPerConnKb <= 1.5 * plain.rssPerConnKb }),
    row('broadcast last (probe) ms p50', percentile(tls.lastProbe, 50), percentile(plain.lastProbe, 50)),
    row('broadcast last (probe) ms p99', percentile(tls.lastProbe, 99), percentile(plain.lastProbe, 99)),
    row('unicast ms p50', percentile(tls.unicast, 50), percentile(plain.unicast, 50)),
    row('unicast ms p99', percentile(tls.unicast, 99), percentile(plain.unicast, 99)),
  ];
}

async function main(): Promise<void> {
  const workers = Array.from({ length: WORKERS }, startWorker);
  const all: Row[] = [];
  try {
    for (const n of SIZES) {
      const fx = await agentsFixture(n);
      try {
        process.stderr.write(`fan-out: ${n} agents, baseline\n`);
        const baseline = await startBaseline();
        const base = await measure(baseline, fx.agents, workers).finally(() => baseline.stop());
        process.stderr.write(`fan-out: ${n} agents, comms-api\n`);
        const server = await startOurs(fx.dataDir, false);
        const ours = await measure(server, fx.agents, workers).finally(() => server.stop());
        all.push(...rows(n, ours, base));
        if (TLS) {
          // a fresh copy: the plain run's broadcasts are still unreported, and would be re-offered on connect
          const fresh = await agentsFixture(n);
          try {
            process.stderr.write(`fan-out: ${n} agents, comms-api over TLS\n`);
            const secure = await startOurs(fresh.dataDir, true);
            const overTls = await measure(secure, fresh.agents, workers).finally(() => secure.stop());
            all.push(...tlsRows(n, overTls, ours));
          } finally {
            rmSync(join(fresh.dataDir, '..'), { recursive: true, force: true });
          }
        }
      } finally {
        rmSync(join(fx.dataDir, '..'), { recursive: true, force: true });
      }
    }
  } finally {
    for (const w of workers) w.proc.disconnect();
  }
  report('fanout', all);
}

await main();
