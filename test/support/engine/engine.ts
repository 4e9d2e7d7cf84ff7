// Test helper: starts the reference engine as a separate process in a fresh temp folder and
// drives it through its control socket.
//
//   const engine = await startEngine();             // { record: 'memory' } by default
//   … point the code under test at engine.socket …
//   await engine.setMode('down');  await engine.setMode('ok');
//   assert.equal((await engine.received()).map((r) => r.data), expectedLines);
//   await engine.stop();
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EngineMode, ModeRequest } from './mode.js';
import type { EngineStats, Received, RecordMode } from './recorder.js';

export type { EngineMode, EngineStats, Received, RecordMode };
export type ModeOptions = Omit<ModeRequest, 'mode'>;

export interface StartEngineOptions {
  record?: RecordMode;
  maxBodyBytes?: number;
  readyTimeoutMs?: number;
}

export interface EngineHandle {
  /** The engine's Unix socket (what the server's COMMS_API_ENGINE_SOCKET points at). */
  socket: string;
  /** The control socket. */
  control: string;
  dir: string;
  pid: number;
  received(range?: { from?: number; limit?: number }): Promise<Received[]>;
  stats(): Promise<EngineStats>;
  setMode(mode: EngineMode, opts?: ModeOptions): Promise<void>;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const ENGINE_ENTRY = fileURLToPath(new URL('./referenceEngine.ts', import.meta.url));

/** One control call on a fresh connection; a non-2xx answer is a broken test setup, so it throws. */
export function controlCall<T>(control: string, method: string, path: string, body?: unknown): Promise<T> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: control, method, path, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const status = res.statusCode ?? 0;
        if (status < 200 || status > 299) reject(new Error(`engine control ${method} ${path}: ${status} ${text}`));
        else resolve(JSON.parse(text) as T);
      });
    });
    req.on('error', reject);
    if (payload !== undefined) req.setHeader('content-type', 'application/json');
    req.end(payload);
  });
}

function query(range: { from?: number; limit?: number }): string {
  const params = new URLSearchParams();
  if (range.from !== undefined) params.set('from', String(range.from));
  if (range.limit !== undefined) params.set('limit', String(range.limit));
  const q = params.toString();
  return q ? `?${q}` : '';
}

export async function startEngine(opts: StartEngineOptions = {}): Promise<EngineHandle> {
  const dir = await mkdtemp(join(tmpdir(), 'comms-engine-'));
  const socket = join(dir, 'engine.sock');
  const control = join(dir, 'engine.ctl');
  const argv = ['--import', 'tsx', ENGINE_ENTRY, '--socket', socket, '--control', control,
    '--record', opts.record ?? 'memory', '--exit-with-stdin'];
  if (opts.maxBodyBytes !== undefined) argv.push('--max-body', String(opts.maxBodyBytes));
  const child = spawn(process.execPath, argv, { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  try {
    await waitForReady(child.stdout, exited, opts.readyTimeoutMs ?? 20_000, () => stderr);
  } catch (err) {
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  child.stdout.resume();
  // A test that forgets stop() must not hang: let this process exit; the engine follows when its stdin closes.
  child.unref();
  for (const stream of [child.stdin, child.stdout, child.stderr]) (stream as unknown as Socket).unref();

  const call = <T>(method: string, path: string, body?: unknown) => controlCall<T>(control, method, path, body);
  return {
    socket,
    control,
    dir,
    pid: child.pid ?? -1,
    received: (range = {}) => call<Received[]>('GET', `/received${query(range)}`),
    stats: () => call<EngineStats>('GET', '/stats'),
    setMode: async (mode, more = {}) => void (await call('POST', '/mode', { ...more, mode })),
    reset: async () => void (await call('POST', '/reset')),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function waitForReady(
  stdout: NodeJS.ReadableStream,
  exited: Promise<void>,
  timeoutMs: number,
  stderr: () => string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`reference engine not ready after ${timeoutMs} ms: ${stderr()}`)), timeoutMs);
    const onData = (d: Buffer | string) => {
      out += d.toString();
      if (!out.includes('ENGINE READY ')) return;
      clearTimeout(timer);
      stdout.off('data', onData);
      resolve();
    };
    stdout.on('data', onData);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`reference engine exited before it was ready: ${stderr()}`));
    });
  });
}
