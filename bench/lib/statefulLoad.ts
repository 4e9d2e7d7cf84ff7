/**
 * Stateful items for the indexer drain: ingested through `POST /events/stateful?wait=0`
 * (1,000 items per batch) into a server without an indexer, and the same documents as `_bulk`
 * lines for the direct baseline (same action shape the server sends: `index` with `_id` = item id).
 */
import http from 'node:http';
import { CLI, jsonRequest, pool, serverEnv, startCommsApi } from './commsApi.js';
import { spawnReady } from '../support.js';

export const ITEMS_PER_BATCH = 1000;
/** The indexer pipeline's settings (README): ≤ 2000 actions per `_bulk`, 3 in flight. */
export const BULK_ACTIONS = 2000;
export const BULKS_IN_FLIGHT = 3;
const AGENT = 'bench-states';
const KEY = 'benchStatesKey0123456789abcdefAB';

const itemId = (n: number) => `item-${String(n).padStart(7, '0')}`;
const doc = (n: number) => ({
  file: { path: `/etc/bench/${n % 997}/file-${n}.conf`, size: 1024 + (n % 4096), mtime: '2026-11-27T00:00:00.000Z', hash: { sha256: (n * 2654435761 >>> 0).toString(16).padStart(64, '0') } },
  agent: { id: AGENT },
  n,
});

export interface StatefulLoad {
  items: number;
  /** Journal seqs of the first and last batch (contiguous: nothing else is written meanwhile). */
  firstSeq: number;
  lastSeq: number;
  ingestSeconds: number;
}

/** Ingests `items` items of module `module` (index `wazuh-states-<module>`). */
export async function loadStateful(dataDir: string, items: number, module: string): Promise<StatefulLoad> {
  const env = serverEnv(dataDir);
  await spawnReady(process.execPath, [CLI, 'init'], /\{.*\}/, env).started;
  await spawnReady(process.execPath, [CLI, 'agents', 'add', '--uuid', AGENT, '--key', KEY], /\{[\s\S]*\}/, env).started;
  const server = await startCommsApi(dataDir, { COMMS_API_MAX_BODY_BYTES: String(4 << 20) });
  const started = Date.now();
  try {
    const headSeq = async () => (await server.admin<{ head_seq: number }>('GET', '/api/v1/journal/stats')).body.head_seq;
    const before = await headSeq();
    const login = await jsonRequest<{ token: string }>({ host: '127.0.0.1', port: server.port }, 'POST', '/api/v1/login', { uuid: AGENT, key: KEY });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    const batches = Array.from({ length: Math.ceil(items / ITEMS_PER_BATCH) }, (_, b) => b);
    await pool(batches, 4, async (b) => {
      let body = `{"agent":{"id":"${AGENT}","name":"bench"}}\n`;
      for (let n = b * ITEMS_PER_BATCH; n < Math.min(items, (b + 1) * ITEMS_PER_BATCH); n++) {
        body += `${JSON.stringify({ id: itemId(n), module, operation: 'create' })}\n${JSON.stringify(doc(n))}\n`;
      }
      const r = await jsonRequestRaw(server.port, agent, login.body.token, body);
      if (r !== 202) throw new Error(`stateful ingest answered ${r}`);
    });
    agent.destroy();
    const after = await headSeq();
    if (after - before !== batches.length) throw new Error(`expected ${batches.length} journal rows, got ${after - before}`);
    return { items, firstSeq: before + 1, lastSeq: after, ingestSeconds: (Date.now() - started) / 1000 };
  } finally {
    await server.stop();
  }
}

function jsonRequestRaw(port: number, agent: http.Agent, token: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, agent, method: 'POST', path: '/api/v1/events/stateful?wait=0', headers: { 'content-type': 'application/x-ndjson', authorization: `Bearer ${token}`, 'content-length': Buffer.byteLength(body) } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** The same items as `_bulk` bodies of BULK_ACTIONS actions into `index`, built before timing. */
export function bulkBodies(items: number, index: string): Buffer[] {
  const bodies: Buffer[] = [];
  for (let start = 0; start < items; start += BULK_ACTIONS) {
    let text = '';
    for (let n = start; n < Math.min(items, start + BULK_ACTIONS); n++) {
      text += `${JSON.stringify({ index: { _index: index, _id: itemId(n) } })}\n${JSON.stringify(doc(n))}\n`;
    }
    bodies.push(Buffer.from(text));
  }
  return bodies;
}

/** Direct `_bulk` of the bodies with BULKS_IN_FLIGHT requests in flight; items/s and client CPU. */
export async function directBulk(url: string, bodies: Buffer[], items: number): Promise<{ itemsPerSecond: number; seconds: number; cpuSeconds: number }> {
  const u = new URL(url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: BULKS_IN_FLIGHT });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await pool(bodies, BULKS_IN_FLIGHT, (body) => bulk(u, agent, body));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  agent.destroy();
  return { itemsPerSecond: items / seconds, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

function bulk(u: URL, agent: http.Agent, body: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: u.hostname, port: u.port, agent, method: 'POST', path: '/_bulk', headers: { 'content-type': 'application/x-ndjson', 'content-length': body.length } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200 || !text.startsWith('{"took"') || /"errors":true/.test(text.slice(0, 100))) reject(new Error(`_bulk: ${res.statusCode} ${text.slice(0, 300)}`));
          else resolve();
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
