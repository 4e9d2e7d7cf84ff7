/**
 * What an idle TLS connection costs Node itself: a raw node:https server and a raw node:http server
 * (the same one-line SSE answer, nothing else) each hold N idle streams; RSS per stream of the TLS
 * server beside the plain one, in the same run. It puts the fan-out's "TLS vs plain" figure
 * (bench/fanout.bench.ts) in context: the part of it that is Node's and OpenSSL's, not comms-api's.
 * The key pair is ECDSA P-256, as comms-api generates.
 * Run: node --import tsx bench/tlsMemory.bench.ts [--streams 3000]
 */
import { fork } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SOURCE_ADDRESSES } from './fanout/rawSse.js';
import { report, ROOT, type Row } from './support.js';

const N = Number(parseArgs({ options: { streams: { type: 'string', default: '3000' } } }).values.streams);

async function perStream(mode: 'plain' | 'tls', dir: string): Promise<number> {
  const server = fork(join(ROOT, 'bench/baseline/idleStreamServer.ts'), [mode, dir], { execArgv: ['--import', 'tsx', '--expose-gc'] });
  const ask = <T>(m?: string) => new Promise<T>((resolve) => { server.once('message', (v) => resolve(v as T)); if (m) server.send(m); });
  const port = await ask<number>();
  const rss0 = await ask<number>('rss');
  const sockets: net.Socket[] = [];
  for (let i = 0; i < N; i++) {
    await new Promise<void>((resolve, reject) => {
      const o = { host: '127.0.0.1', port, localAddress: SOURCE_ADDRESSES[i % SOURCE_ADDRESSES.length]! };
      const get = () => s.write('GET /stream HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n');
      const s: net.Socket = mode === 'tls' ? tls.connect({ ...o, rejectUnauthorized: false }, get) : net.connect(o, get);
      s.once('data', () => resolve());
      s.once('error', reject);
      sockets.push(s);
    });
  }
  const rss1 = await ask<number>('rss');
  for (const s of sockets) s.destroy();
  server.kill();
  return (rss1 - rss0) / N / 1024;
}

const dir = mkdtempSync(join(tmpdir(), 'bench-tls-memory-'));
try {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'server.key'), '-out', join(dir, 'server.crt'), '-subj', '/CN=127.0.0.1', '-days', '1'], { stdio: 'ignore' });
  const plain = await perStream('plain', dir);
  const secure = await perStream('tls', dir);
  const rows: Row[] = [
    { bench: 'tlsMemory', case: `${N.toLocaleString('en')} idle streams, raw node:https vs node:http`, metric: 'RSS per stream KB', value: secure, baseline: plain, ratio: secure / plain },
  ];
  report('tlsMemory', rows);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
