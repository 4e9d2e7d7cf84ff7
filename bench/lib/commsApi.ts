/**
 * Benchmark side of comms-api: start the built server (`node bin/comms-api.js serve`) on a data
 * folder and talk to it only through its public surfaces (HTTP, the admin socket, the CLI).
 */
import http from 'node:http';
import { join } from 'node:path';
import { ROOT, spawnReady } from '../support.js';

export const CLI = join(ROOT, 'bin/comms-api.js');

export interface BenchServer {
  url: string;
  port: number;
  pid: number;
  adminSocket: string;
  /** One request over the admin socket (operator rights, no token); JSON in and out. */
  admin<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
  stop(): Promise<void>;
}

/** The environment every benchmark gives the server: plain HTTP on loopback, quiet logs. */
export function serverEnv(dataDir: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    COMMS_API_DATA_DIR: dataDir,
    COMMS_API_INSECURE_HTTP: '1',
    COMMS_API_HOST: '127.0.0.1',
    COMMS_API_PORT: '0',
    COMMS_API_LOG_LEVEL: 'warn',
    COMMS_API_ADMIN_SOCKET: join(dataDir, 'admin.sock'),
    ...extra,
  };
}

export async function startCommsApi(dataDir: string, extra: Record<string, string> = {}, nodeArgs: string[] = []): Promise<BenchServer> {
  const env = serverEnv(dataDir, extra);
  // BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the server under test
  const extraArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const server = spawnReady(process.execPath, [...extraArgs, ...nodeArgs, CLI, 'serve'], /serving on ([^\s"]+)/, env);
  const url = (await server.started)[1]!;
  const adminSocket = env.COMMS_API_ADMIN_SOCKET!;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  return {
    url,
    port: Number(new URL(url).port),
    pid: server.proc.pid!,
    adminSocket,
    admin: (method, path, body) => jsonRequest({ socketPath: adminSocket, agent }, method, path, body),
    async stop() {
      agent.destroy();
      await server.stop();
    },
  };
}

/** A JSON request with node:http (keep-alive agent given by the caller). */
export function jsonRequest<T>(
  target: { socketPath?: string; host?: string; port?: number; agent?: http.Agent; headers?: Record<string, string> },
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: T }> {
  const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...(target.headers ?? {}) };
    if (payload) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = payload.length;
    }
    const req = http.request({ ...target, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = text;
        try {
          parsed = text ? JSON.parse(text) : undefined;
        } catch {
          /* not JSON */
        }
        resolve({ status: res.statusCode ?? 0, body: parsed as T });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Percentile (0–100) of a list of numbers, nearest-rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
