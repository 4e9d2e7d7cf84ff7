// Reference engine: a separate process that speaks the engine's socket API, for tests and benchmarks.
//
//   node --import tsx test/support/engine/referenceEngine.ts --socket PATH
//        [--control PATH (default PATH.ctl)] [--record memory|count|none (default memory)]
//        [--max-body BYTES (default 64 MiB)] [--exit-with-stdin]
//
// Engine socket: HTTP/1.1 with keep-alive, `POST /events/stateless`, `Content-Type:
// application/x-ndjson`, body parsed strictly (see parseStatelessBody.ts).
//   200 {"accepted": n}            the batch was accepted and recorded
//   400 {"error", "code"}          malformed body (nothing of it is recorded)
//   404/405/413/415 {"error", "code"}
// Control socket: see controlServer.ts; behaviours: see mode.ts.
// Prints `ENGINE READY <socket>` once both sockets listen; SIGTERM/SIGINT close them and exit 0.
import http from 'node:http';
import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createControlServer } from './controlServer.js';
import { readBody, sendJson } from './httpUtil.js';
import type { EngineMode, ModeRequest } from './mode.js';
import { EngineErrorCode, parseStatelessBody } from './parseStatelessBody.js';
import { createRecorder, type RecordMode } from './recorder.js';

const args = parseArgs({
  options: {
    socket: { type: 'string' },
    control: { type: 'string' },
    record: { type: 'string', default: 'memory' },
    'max-body': { type: 'string', default: String(64 * 1024 * 1024) },
    'exit-with-stdin': { type: 'boolean', default: false },
  },
}).values;

if (!args.socket) throw new Error('--socket PATH is required');
if (!['none', 'memory', 'count'].includes(args.record ?? '')) throw new Error('--record must be none|memory|count');
const socketPath: string = args.socket;
const controlPath = args.control ?? `${socketPath}.ctl`;
const maxBody = Number(args['max-body']);
const recorder = createRecorder(args.record as RecordMode);

let current: ModeRequest = { mode: 'ok' };
let engine: http.Server | null = null;
let revertTimer: NodeJS.Timeout | undefined;
const stalled = new Set<http.ServerResponse>();

function acceptBatch(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): void {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-ndjson') {
    return reject(res, 415, 'content type must be application/x-ndjson', EngineErrorCode.UnsupportedContentType);
  }
  const parsed = parseStatelessBody(body);
  if (!parsed.ok) return reject(res, 400, parsed.error, parsed.code);
  recorder.accept(parsed.agentId, parsed.events, body.length);
  sendJson(res, 200, { accepted: parsed.events.length });
}

function reject(res: http.ServerResponse, status: number, error: string, code: EngineErrorCode): void {
  recorder.counters.rejected += 1;
  sendJson(res, status, { error, code });
}

function countDown(): void {
  if (current.times === undefined) return;
  current.times -= 1;
  if (current.times <= 0) current = { mode: 'ok' };
}

function answer(req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): void {
  switch (current.mode) {
    case 'ok':
    case 'down': // a request that was already in flight when the engine went down
      return acceptBatch(req, res, body);
    case 'stall':
      stalled.add(res);
      res.on('close', () => stalled.delete(res));
      return;
    case 'error500': {
      const status = current.status ?? 500;
      countDown();
      return reject(res, status, 'engine unavailable (simulated)', EngineErrorCode.SimulatedServerError);
    }
    case 'reject400':
      countDown();
      return reject(res, 400, 'batch rejected (simulated)', EngineErrorCode.SimulatedRejection);
    default: {
      const _exhaustive: never = current.mode;
      return _exhaustive;
    }
  }
}

function handleEngineRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
  recorder.counters.requests += 1;
  readBody(req, maxBody, (r) => {
    if (req.url !== '/events/stateless') return reject(res, 404, `no route ${req.url}`, EngineErrorCode.NotFound);
    if (req.method !== 'POST') return reject(res, 405, 'use POST', EngineErrorCode.MethodNotAllowed);
    if (!r.ok) return reject(res, 413, `body of ${r.bytes} bytes exceeds ${maxBody}`, EngineErrorCode.BodyTooLarge);
    answer(req, res, r.body);
  });
}

function listen(server: http.Server, path: string): Promise<void> {
  rmSync(path, { force: true });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

async function openEngine(): Promise<void> {
  if (engine) return;
  const server = http.createServer(handleEngineRequest);
  server.keepAliveTimeout = 65_000;
  server.on('connection', () => (recorder.counters.connections += 1));
  engine = server;
  await listen(server, socketPath);
}

function closeEngine(): void {
  const server = engine;
  engine = null;
  if (!server) return;
  server.close();
  server.closeAllConnections();
  rmSync(socketPath, { force: true });
}

function releaseStalled(): void {
  for (const res of stalled) res.socket?.destroy();
  stalled.clear();
}

async function setMode(next: ModeRequest): Promise<void> {
  clearTimeout(revertTimer);
  releaseStalled();
  current = { ...next };
  if (next.mode === 'down') closeEngine();
  else await openEngine();
  if (next.forMs !== undefined) {
    revertTimer = setTimeout(() => void setMode({ mode: 'ok' }).catch(fatal), next.forMs);
  }
}

function fatal(err: unknown): void {
  process.stderr.write(`reference engine: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
}

const control = createControlServer({ recorder, mode: (): EngineMode => current.mode, setMode });

function shutdown(): void {
  clearTimeout(revertTimer);
  releaseStalled();
  closeEngine();
  control.close();
  control.closeAllConnections();
  rmSync(controlPath, { force: true });
  process.exit(0);
}

process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
if (args['exit-with-stdin']) {
  process.stdin.on('end', shutdown);
  process.stdin.on('error', shutdown);
  process.stdin.resume();
}

await openEngine().catch(fatal);
await listen(control, controlPath).catch(fatal);
process.stdout.write(`ENGINE READY ${socketPath}\n`);
