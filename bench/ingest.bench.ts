/**
 * Ingest: POST /api/v1/events/stateless with 1 KB, 10 KB and 100 KB NDJSON bodies at
 * concurrency 50 (autocannon), durable acknowledgements, beside the raw node:http + SQLite
 * baseline (bench/baseline/ingestBaseline.ts) measured in the same run.
 * Run: node --import tsx bench/ingest.bench.ts [seconds per case]
 */
import autocannon from 'autocannon';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { report, ROOT, spawnReady, type Row } from './support.js';

const SECONDS = Number(process.argv[2] ?? 10);
const CONNECTIONS = 50;
const KEY = 'abcdefghijklmnopqrstuvwxyz012345';

/** An NDJSON body of about `bytes` bytes: agent line, then header/data pairs of ~230 bytes. */
function body(bytes: number): { text: string; events: number } {
  const lines = ['{"agent":{"id":"bench","name":"bench-agent","version":"4.9.0"}}'];
  let events = 0;
  let size = lines[0]!.length + 1;
  while (size < bytes) {
    const header = '{"module":"logcollector","collector":"file"}';
    const data = JSON.stringify({ ts: '2026-11-27T00:00:00.000Z', location: '/var/log/syslog', n: events, message: 'sshd[1234]: Accepted publickey for admin from 127.0.0.1 port 52311 ssh2' });
    lines.push(header, data);
    size += header.length + data.length + 2;
    events += 1;
  }
  return { text: lines.join('\n') + '\n', events };
}

function cannon(url: string, headers: Record<string, string>, text: string): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon({ url, method: 'POST', connections: CONNECTIONS, duration: SECONDS, headers, body: text }, (err, res) =>
      err ? reject(err) : resolve(res),
    );
  });
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-ingest-'));
  const env = { COMMS_API_DATA_DIR: join(dir, 'server'), COMMS_API_INSECURE_HTTP: '1', COMMS_API_HOST: '127.0.0.1', COMMS_API_PORT: '0', COMMS_API_LOG_LEVEL: 'warn', COMMS_API_MAX_BODY_BYTES: String(1 << 20) };
  const cli = join(ROOT, 'bin/comms-api.js');
  const add = spawnReady(process.execPath, [cli, 'agents', 'add', '--uuid', 'bench', '--key', KEY], /\{.*\}/, env);
  await add.started;
  const server = spawnReady(process.execPath, [cli, 'serve'], /serving on ([^\s"]+)/, env);
  const url = (await server.started)[1]!;
  const baselineDir = join(dir, 'baseline');
  (await import('node:fs')).mkdirSync(baselineDir);
  const baseline = spawnReady(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/baseline/ingestBaseline.ts'), baselineDir], /BASELINE READY (\S+)/);
  const baseUrl = (await baseline.started)[1]!;
  const login = await fetch(`${url}/api/v1/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ uuid: 'bench', key: KEY }) });
  const { token } = (await login.json()) as { token: string };

  const rows: Row[] = [];
  try {
    for (const size of [1024, 10 * 1024, 100 * 1024]) {
      const { text, events } = body(size);
      const label = `${size / 1024} KB (${events} events)`;
      const headers = { 'content-type': 'application/x-ndjson', authorization: `Bearer ${token}` };
      // warm-up, then the baseline and the server alternately
      await cannon(`${url}/api/v1/events/stateless`, headers, text).catch(() => undefined);
      const base = await cannon(`${baseUrl}/events`, { 'content-type': 'application/x-ndjson' }, text);
      const ours = await cannon(`${url}/api/v1/events/stateless`, headers, text);
      const bad = ours.non2xx + ours.errors;
      if (bad > 0) console.warn(`${label}: ${bad} requests failed`);
      const reqs = ours.requests.average;
      rows.push(
        { bench: 'ingest', case: label, metric: 'req/s', value: reqs, baseline: base.requests.average, ratio: reqs / base.requests.average, target: '≥ 85% of baseline', met: reqs / base.requests.average >= 0.85 },
        { bench: 'ingest', case: label, metric: 'events/s', value: reqs * events, baseline: base.requests.average * events, ratio: reqs / base.requests.average, ...(size === 100 * 1024 ? { target: '≥ 100,000', met: reqs * events >= 100_000 } : {}) },
        { bench: 'ingest', case: label, metric: 'p50 ms', value: ours.latency.p50, baseline: base.latency.p50 },
        { bench: 'ingest', case: label, metric: 'p99 ms', value: ours.latency.p99, baseline: base.latency.p99, ...(size === 1024 ? { target: '≤ 20 ms', met: ours.latency.p99 <= 20 } : {}) },
      );
      if (size === 1024) rows.push({ bench: 'ingest', case: label, metric: 'req/s target', value: reqs, target: '≥ 8,000 req/s', met: reqs >= 8000 });
    }
  } finally {
    await Promise.all([server.stop(), baseline.stop()]);
    rmSync(dir, { recursive: true, force: true });
  }
  report('ingest', rows);
}

await main();
