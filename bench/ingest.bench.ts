/**
 * Ingest: POST /api/v1/events/stateless with 1 KB, 10 KB and 100 KB NDJSON bodies at
 * concurrency 50 (autocannon), durable acknowledgements, beside the raw node:http + SQLite
 * baseline (bench/baseline/ingestBaseline.ts) measured in the same run, over plain HTTP and over
 * TLS (the default; the baseline then serves HTTPS with the server's own pair).
 * Run: node --import tsx bench/ingest.bench.ts [seconds per case]
 */
import autocannon from 'autocannon';
import { execSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
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

/** Targets of issue 13, per body size: comms-api ÷ the raw baseline with the same transport. */
const TARGETS: Record<number, number> = { 1024: 0.6, 10240: 0.7, 102400: 0.75 };

async function transport(dir: string, tls: boolean, rows: Row[]): Promise<void> {
  const name = tls ? 'TLS' : 'HTTP';
  const dataDir = join(dir, `server-${name}`);
  const env = { COMMS_API_DATA_DIR: dataDir, COMMS_API_INSECURE_HTTP: tls ? '0' : '1', COMMS_API_HOST: '127.0.0.1', COMMS_API_PORT: '0', COMMS_API_LOG_LEVEL: 'warn', COMMS_API_MAX_BODY_BYTES: String(1 << 20) };
  const cli = join(ROOT, 'bin/comms-api.js');
  await spawnReady(process.execPath, [cli, 'init'], /\{[\s\S]*\}/, env).started;
  const add = spawnReady(process.execPath, [cli, 'agents', 'add', '--uuid', 'bench', '--key', KEY], /\{[\s\S]*\}/, env);
  await add.started;
  const server = spawnReady(process.execPath, [cli, 'serve'], /serving on ([^\s"]+)/, env);
  const url = (await server.started)[1]!;
  const baselineDir = join(dir, `baseline-${name}`);
  mkdirSync(baselineDir);
  const baseArgs = [join(ROOT, 'bench/baseline/ingestBaseline.ts'), baselineDir, ...(tls ? [join(dataDir, 'tls')] : [])];
  const baseline = spawnReady(process.execPath, ['--import', 'tsx', ...baseArgs], /BASELINE READY (\S+)/);
  try {
    const baseUrl = (await baseline.started)[1]!;
    const token = await new Promise<string>((resolve, reject) => {
      const u = new URL(`${url}/api/v1/login`);
      const payload = JSON.stringify({ uuid: 'bench', key: KEY });
      const req = (tls ? https : http).request(u, { method: 'POST', rejectUnauthorized: false, headers: { 'content-type': 'application/json', 'content-length': payload.length } }, (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve((JSON.parse(text) as { token: string }).token));
      });
      req.on('error', reject);
      req.end(payload);
    });
    const load = execSync('uptime').toString().trim().replace(/.*load average: /, '');
    for (const size of [1024, 10 * 1024, 100 * 1024]) {
      const { text, events } = body(size);
      const label = `${name}, ${size / 1024} KB (${events} events)`;
      const headers = { 'content-type': 'application/x-ndjson', authorization: `Bearer ${token}` };
      // warm-up, then the baseline and the server alternately
      await cannon(`${url}/api/v1/events/stateless`, headers, text).catch(() => undefined);
      const base = await cannon(`${baseUrl}/events`, { 'content-type': 'application/x-ndjson' }, text);
      const ours = await cannon(`${url}/api/v1/events/stateless`, headers, text);
      const bad = ours.non2xx + ours.errors;
      if (bad > 0) console.warn(`${label}: ${bad} requests failed`);
      const reqs = ours.requests.average;
      const ratio = reqs / base.requests.average;
      const target = TARGETS[size]!;
      rows.push(
        { bench: 'ingest', case: `${label} (load ${load})`, metric: 'req/s', value: reqs, baseline: base.requests.average, ratio, target: `≥ ${target * 100}% of baseline`, met: ratio >= target },
        { bench: 'ingest', case: label, metric: 'events/s', value: reqs * events, baseline: base.requests.average * events, ratio },
        { bench: 'ingest', case: label, metric: 'p50 ms', value: ours.latency.p50, baseline: base.latency.p50 },
        { bench: 'ingest', case: label, metric: 'p99 ms', value: ours.latency.p99, baseline: base.latency.p99 },
      );
    }
  } finally {
    await Promise.all([server.stop(), baseline.stop()]);
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-ingest-'));
  const rows: Row[] = [];
  try {
    for (const tls of [false, true]) await transport(dir, tls, rows);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  report('ingest', rows);
}

await main();
