/**
 * Fills a data folder with stateless events through the public API (`POST /events/stateless`,
 * 1,000-event NDJSON batches, a few requests in flight) and keeps what a drain or replay benchmark
 * needs to check and to compare: the batches in journal order, the sha256 the reference engine
 * should report (`data_hash`), and the same engine bodies for the direct-sender baseline.
 */
import { createHash } from 'node:crypto';
import http from 'node:http';
import { join } from 'node:path';
import { createEngineClient } from '../../src/engine/engineClient.js';
import { spawnReady } from '../support.js';
import { CLI, jsonRequest, pool, serverEnv, startCommsApi } from './commsApi.js';

export const EVENTS_PER_BATCH = 1000;
/** The engine pipeline's request size: consecutive rows of one agent, ≤ 5000 events. */
export const EVENTS_PER_ENGINE_REQUEST = 5000;
const AGENT = 'bench-drain';
const KEY = 'benchDrainKey0123456789abcdefABC';
const AGENT_LINE = Buffer.from(`{"agent":{"id":"${AGENT}","name":"bench-agent","version":"4.9.0"}}\n`);
const HEADER = '{"module":"logcollector","collector":"file"}\n';

/** The header and data lines of batch `b` (events b*1000 … b*1000+999), about 215 bytes per event. */
function batchLines(b: number, events: number): string {
  let out = '';
  for (let i = 0; i < events; i++) {
    const n = b * EVENTS_PER_BATCH + i;
    out += HEADER + dataLine(n) + '\n';
  }
  return out;
}

const dataLine = (n: number) =>
  `{"ts":"2026-11-27T00:00:00.000Z","location":"/var/log/auth.log","n":${n},"message":"sshd[${1000 + (n % 9000)}]: Accepted publickey for admin from 127.0.0.1 port ${20000 + (n % 40000)} ssh2"}`;

export interface StatelessLoad {
  events: number;
  /** Batch numbers in journal (seq) order. */
  order: number[];
  /** sha256 over every data line + "\n" in journal order: the engine's `data_hash` after a complete drain. */
  expectedHash: string;
  ingestSeconds: number;
}

const batchSize = (b: number, total: number) => Math.min(EVENTS_PER_BATCH, total - b * EVENTS_PER_BATCH);

/** Registers the agent (CLI), starts the server with no engine, ingests `events` events, stops it. */
export async function loadStateless(dataDir: string, events: number): Promise<StatelessLoad> {
  const env = serverEnv(dataDir);
  await spawnReady(process.execPath, [CLI, 'init'], /\{.*\}/, env).started;
  const add = spawnReady(process.execPath, [CLI, 'agents', 'add', '--uuid', AGENT, '--key', KEY], /\{[\s\S]*\}/, env);
  await add.started;
  const server = await startCommsApi(dataDir, { COMMS_API_ENGINE_SOCKET: join(dataDir, 'no-engine.sock'), COMMS_API_MAX_BODY_BYTES: String(4 << 20) });
  const started = Date.now();
  const order: Array<{ b: number; seq: number }> = [];
  try {
    const login = await jsonRequest<{ token: string }>({ host: '127.0.0.1', port: server.port }, 'POST', '/api/v1/login', { uuid: AGENT, key: KEY });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    const batches = Array.from({ length: Math.ceil(events / EVENTS_PER_BATCH) }, (_, b) => b);
    await pool(batches, 4, async (b) => {
      const body = AGENT_LINE.toString() + batchLines(b, batchSize(b, events));
      const seq = await post(server.port, agent, login.body.token, body);
      order.push({ b, seq });
      if ((order.length * EVENTS_PER_BATCH) % 100_000 === 0) process.stderr.write(`  ingested ${order.length * EVENTS_PER_BATCH}\n`);
    });
    agent.destroy();
  } finally {
    await server.stop();
  }
  const ingestSeconds = (Date.now() - started) / 1000;
  order.sort((x, y) => x.seq - y.seq);
  const hash = createHash('sha256');
  for (const { b } of order) {
    for (let i = 0; i < batchSize(b, events); i++) hash.update(dataLine(b * EVENTS_PER_BATCH + i) + '\n');
  }
  return { events, order: order.map((o) => o.b), expectedHash: hash.digest('hex'), ingestSeconds };
}

function post(port: number, agent: http.Agent, token: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, agent, method: 'POST', path: '/api/v1/events/stateless', headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${token}`, 'content-length': Buffer.byteLength(body) } },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (c: string) => (text += c));
        res.on('end', () => (res.statusCode === 202 ? resolve((JSON.parse(text) as { seq: number }).seq) : reject(new Error(`ingest: ${res.statusCode} ${text}`))));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * The direct-sender baseline: the same engine bodies (agent line + up to 5000 events' lines, the
 * batches in journal order) sent with the server's own engine client, one request in flight, as
 * the pipeline does. Bodies are built before the clock starts. Returns events/s and client CPU s.
 */
export async function directSend(socketPath: string, load: StatelessLoad): Promise<{ eventsPerSecond: number; seconds: number; cpuSeconds: number }> {
  const perRequest = EVENTS_PER_ENGINE_REQUEST / EVENTS_PER_BATCH;
  const bodies: Buffer[][] = [];
  for (let i = 0; i < load.order.length; i += perRequest) {
    bodies.push([AGENT_LINE, ...load.order.slice(i, i + perRequest).map((b) => Buffer.from(batchLines(b, batchSize(b, load.events))))]);
  }
  const client = createEngineClient({ socketPath, timeoutMs: 60_000, maxSockets: 1 });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (const body of bodies) {
    const r = await client.send(body);
    if (!r.ok) throw new Error(`direct send: ${r.reason}`);
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  client.close();
  return { eventsPerSecond: load.events / seconds, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

