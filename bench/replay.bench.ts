/**
 * Replay: 1M stateless events in the journal replayed to a reference engine (`--record count`),
 * twice: `POST /api/v1/journal/replay` on the running server (after its engine pipeline drained
 * the journal and the engine was reset; server CPU measured) and `comms-api replay --to engine`
 * (the CLI on the same data folder, server stopped). Events/s from the first event the engine sees
 * to the last, `data_hash` checked; baseline = the same engine bodies sent straight to a reference
 * engine with the server's engine client, before and after.
 *
 * Run: node --import tsx bench/replay.bench.ts [--events 1000000]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startEngine, type EngineHandle } from '../test/support/engine/engine.js';
import { CLI, serverEnv, startCommsApi } from './lib/commsApi.js';
import { timeEngineDrain, type DrainTiming } from './lib/engineDrain.js';
import { directSend, loadStateless, type StatelessLoad } from './lib/statelessLoad.js';
import { report, type Row } from './support.js';

const EVENTS = Number(parseArgs({ options: { events: { type: 'string', default: '1000000' } } }).values.events);

async function direct(load: StatelessLoad) {
  const e = await startEngine({ record: 'count' });
  try {
    const r = await directSend(e.socket, load);
    const s = await e.stats();
    if (s.data_hash !== load.expectedHash) throw new Error(`baseline engine got ${s.accepted_events} events, hash ${s.data_hash}`);
    return r;
  } finally {
    await e.stop();
  }
}

function checkHash(t: DrainTiming, load: StatelessLoad, what: string): void {
  if (t.dataHash !== load.expectedHash || t.accepted !== load.events) throw new Error(`${what}: engine got ${t.accepted} events, data_hash ${t.dataHash} ≠ ${load.expectedHash}`);
}

/** The server drains the journal to the engine first (live pipeline), then replays it on request. */
async function httpReplay(dataDir: string, engine: EngineHandle, load: StatelessLoad): Promise<DrainTiming> {
  const server = await startCommsApi(dataDir, { COMMS_API_ENGINE_SOCKET: engine.socket });
  try {
    await timeEngineDrain(engine, load.events, server.pid);
    await engine.reset();
    const r = await server.admin<{ id: string }>('POST', '/api/v1/journal/replay', { to: 'engine' });
    if (r.status !== 202) throw new Error(`replay: ${r.status} ${JSON.stringify(r.body)}`);
    const t = await timeEngineDrain(engine, load.events, server.pid);
    const p = await server.admin<{ state: string }>('GET', `/api/v1/journal/replays/${r.body.id}`);
    if (p.body.state === 'failed') throw new Error(`replay failed: ${JSON.stringify(p.body)}`);
    return t;
  } finally {
    await server.stop();
  }
}

/** `comms-api replay --to engine` on the same folder, server stopped. */
async function cliReplay(dataDir: string, engine: EngineHandle, load: StatelessLoad): Promise<{ t: DrainTiming; summary: { sent: number; duration_ms: number } }> {
  await engine.reset();
  const env = { ...process.env, ...serverEnv(dataDir), COMMS_API_ENGINE_SOCKET: engine.socket };
  const cli = spawn(process.execPath, [CLI, 'replay', '--to', 'engine'], { env, stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  cli.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  const exited = new Promise<number | null>((resolve) => cli.once('exit', (code) => resolve(code)));
  const t = await timeEngineDrain(engine, load.events, cli.pid!);
  const code = await exited;
  if (code !== 0) throw new Error(`comms-api replay exited with ${code}: ${out}`);
  return { t, summary: JSON.parse(out) as { sent: number; duration_ms: number } };
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-replay-'));
  const dataDir = join(dir, 'data');
  const rows: Row[] = [];
  try {
    process.stderr.write(`replay: ingesting ${EVENTS} stateless events (engine absent)\n`);
    const load = await loadStateless(dataDir, EVENTS);
    process.stderr.write('replay: direct sender (baseline)\n');
    const before = await direct(load);
    const engine = await startEngine({ record: 'count' });
    let http: DrainTiming;
    let cli: Awaited<ReturnType<typeof cliReplay>>;
    try {
      process.stderr.write('replay: POST /api/v1/journal/replay\n');
      http = await httpReplay(dataDir, engine, load);
      checkHash(http, load, 'HTTP replay');
      process.stderr.write('replay: comms-api replay --to engine\n');
      cli = await cliReplay(dataDir, engine, load);
      checkHash(cli.t, load, 'CLI replay');
    } finally {
      await engine.stop();
    }
    process.stderr.write('replay: direct sender again (baseline)\n');
    const after = await direct(load);
    const base = (2 * EVENTS) / (before.seconds + after.seconds);
    const baseCpu = (before.cpuSeconds + after.cpuSeconds) / 2;
    const c = `${EVENTS.toLocaleString('en')} events`;
    const cliRate = cli.summary.sent / (cli.summary.duration_ms / 1000);
    rows.push(
      { bench: 'replay', case: c, metric: 'HTTP replay events/s', value: http.eventsPerSecond, baseline: base, ratio: http.eventsPerSecond / base, target: '≥ 200,000', met: http.eventsPerSecond >= 200_000 },
      { bench: 'replay', case: c, metric: 'HTTP replay server CPU s', value: http.cpuSeconds, baseline: baseCpu, ratio: http.cpuSeconds / baseCpu },
      { bench: 'replay', case: c, metric: 'CLI replay events/s (engine)', value: cli.t.eventsPerSecond, baseline: base, ratio: cli.t.eventsPerSecond / base, target: '≥ 200,000', met: cli.t.eventsPerSecond >= 200_000 },
      { bench: 'replay', case: c, metric: 'CLI replay events/s (its summary)', value: cliRate, baseline: base, ratio: cliRate / base },
      { bench: 'replay', case: c, metric: 'baseline runs events/s (before, after)', value: before.eventsPerSecond, baseline: after.eventsPerSecond },
      { bench: 'replay', case: c, metric: 'data_hash matches', value: 1 },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  report('replay', rows);
}

await main();
