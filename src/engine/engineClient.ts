// Engine client: `POST /events/stateless` (NDJSON) over the engine's Unix socket, with a
// keep-alive agent bounded to `maxSockets` connections.
//
// Outcomes are returned, never thrown:
//   2xx                                   → { ok: true }
//   4xx except 408/429 (the body is poison) → { ok: false, retryable: false, status, reason }
//   5xx, 408, 429, other statuses,
//   connection refused / ENOENT / reset,
//   the `timeoutMs` deadline, a closed client → { ok: false, retryable: true, status?, reason }
import http from 'node:http';

export type EngineSendResult =
  | { ok: true }
  | { ok: false; retryable: boolean; status?: number; reason: string };

export interface EngineClientOptions {
  socketPath: string;
  /** Deadline for one request, from sending to the end of the answer. */
  timeoutMs: number;
  /** Connections kept to the engine at most (and so requests in flight). */
  maxSockets: number;
  /** Idle keep-alive connections are closed after this (default 4 s, under the usual server 5 s). */
  idleSocketMs?: number;
}

export interface EngineClient {
  /** Sends one NDJSON body; the parts are written in order, without being concatenated. */
  send(body: Buffer | readonly Buffer[]): Promise<EngineSendResult>;
  /** Closes every connection; later sends answer { ok: false, retryable: true }. */
  close(): void;
}

export const ENGINE_STATELESS_PATH = '/events/stateless';
const OK: EngineSendResult = { ok: true };
const MAX_ERROR_TEXT = 4096;

export function createEngineClient(opts: EngineClientOptions): EngineClient {
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.maxSockets, timeout: opts.idleSocketMs ?? 4000 });
  let closed = false;
  return {
    send(body) {
      if (closed) return Promise.resolve({ ok: false, retryable: true, reason: 'engine client is closed' });
      return post(agent, opts, Buffer.isBuffer(body) ? [body] : body);
    },
    close() {
      closed = true;
      agent.destroy();
    },
  };
}

function post(agent: http.Agent, opts: EngineClientOptions, parts: readonly Buffer[]): Promise<EngineSendResult> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (r: EngineSendResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(r);
    };
    const req = http.request({
      agent,
      socketPath: opts.socketPath,
      method: 'POST',
      path: ENGINE_STATELESS_PATH,
      headers: { 'content-type': 'application/x-ndjson', 'content-length': totalLength(parts) },
    });
    const timer = setTimeout(() => {
      finish({ ok: false, retryable: true, reason: `engine did not answer within ${opts.timeoutMs} ms` });
      req.destroy();
    }, opts.timeoutMs);
    req.on('error', (err) => finish(networkFailure(err)));
    req.on('response', (res) => readAnswer(res, finish));
    writeParts(req, parts);
  });
}

function totalLength(parts: readonly Buffer[]): number {
  let n = 0;
  for (const p of parts) n += p.length;
  return n;
}

function writeParts(req: http.ClientRequest, parts: readonly Buffer[]): void {
  if (parts.length === 1) return void req.end(parts[0]);
  req.cork();
  for (const p of parts) req.write(p);
  req.uncork();
  req.end();
}

function readAnswer(res: http.IncomingMessage, finish: (r: EngineSendResult) => void): void {
  const status = res.statusCode ?? 0;
  const success = status >= 200 && status < 300;
  const chunks: Buffer[] = [];
  let kept = 0;
  res.on('data', (c: Buffer) => {
    if (success || kept >= MAX_ERROR_TEXT) return;
    chunks.push(c);
    kept += c.length;
  });
  res.on('end', () => finish(success ? OK : statusFailure(status, Buffer.concat(chunks).toString('utf8'))));
  res.on('error', (err) => finish(networkFailure(err)));
  res.on('close', () => {
    if (!res.complete) finish({ ok: false, retryable: true, status, reason: 'engine closed the connection mid-answer' });
  });
}

function statusFailure(status: number, text: string): EngineSendResult {
  const poison = status >= 400 && status < 500 && status !== 408 && status !== 429;
  return { ok: false, retryable: !poison, status, reason: `engine answered ${status}${detail(text)}` };
}

/** `{"error","code"}` from the engine, or the start of whatever text it sent. */
function detail(text: string): string {
  try {
    const v = JSON.parse(text) as { error?: unknown; code?: unknown };
    if (typeof v.error === 'string') return `: ${v.error}${v.code === undefined ? '' : ` (code ${String(v.code)})`}`;
  } catch {
    // not JSON: fall through
  }
  const t = text.trim().slice(0, 200);
  return t ? `: ${t}` : '';
}

function networkFailure(err: Error & { code?: string }): EngineSendResult {
  return { ok: false, retryable: true, reason: `${err.code ?? 'error'}: ${err.message}` };
}
