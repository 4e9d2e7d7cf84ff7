// The reference engine's control channel: HTTP over a second Unix socket.
//   GET  /received[?from=N&limit=M]  accepted events in arrival order (record mode `memory`; else 409)
//   GET  /stats                      counters, see EngineStats
//   GET  /mode                       {"mode": …}
//   POST /reset                      forget recorded events and zero the counters (the mode stays)
//   POST /mode  {"mode", times?, forMs?, status?}   switch behaviour; answers once it is in effect
import http from 'node:http';
import { readBody, sendJson } from './httpUtil.js';
import { parseModeRequest, type EngineMode, type ModeRequest } from './mode.js';
import type { Recorder } from './recorder.js';

export interface ControlDeps {
  recorder: Recorder;
  mode(): EngineMode;
  setMode(req: ModeRequest): Promise<void>;
}

const MAX_CONTROL_BODY = 64 * 1024;

function intParam(params: URLSearchParams, name: string): number | undefined | null {
  const raw = params.get(name);
  if (raw === null) return undefined;
  const n = Number(raw);
  return Number.isInteger(n) && n >= 0 ? n : null;
}

function getReceived(deps: ControlDeps, url: URL, res: http.ServerResponse): void {
  const from = intParam(url.searchParams, 'from');
  const limit = intParam(url.searchParams, 'limit');
  if (from === null || limit === null) return sendJson(res, 400, { error: 'from and limit must be integers >= 0' });
  const list = deps.recorder.received(from, limit);
  if (list === undefined) return sendJson(res, 409, { error: `record mode is ${deps.recorder.record}, not memory` });
  sendJson(res, 200, list);
}

function postMode(deps: ControlDeps, req: http.IncomingMessage, res: http.ServerResponse): void {
  readBody(req, MAX_CONTROL_BODY, (r) => {
    let parsed;
    try {
      parsed = parseModeRequest(r.ok ? JSON.parse(r.body.toString('utf8')) : null);
    } catch {
      return sendJson(res, 400, { error: 'body is not valid JSON' });
    }
    if (!parsed.ok) return sendJson(res, 400, { error: parsed.error });
    deps.setMode(parsed.value).then(
      () => sendJson(res, 200, { mode: deps.mode() }),
      (err: Error) => sendJson(res, 500, { error: err.message }),
    );
  });
}

function route(deps: ControlDeps, req: http.IncomingMessage, res: http.ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://control');
  const key = `${req.method} ${url.pathname}`;
  switch (key) {
    case 'GET /received':
      return getReceived(deps, url, res);
    case 'GET /stats':
      return sendJson(res, 200, deps.recorder.stats());
    case 'GET /mode':
      return sendJson(res, 200, { mode: deps.mode() });
    case 'POST /reset':
      deps.recorder.reset();
      return sendJson(res, 200, { reset: true });
    case 'POST /mode':
      return postMode(deps, req, res);
    default:
      return sendJson(res, 404, { error: `no route ${key}` });
  }
}

export function createControlServer(deps: ControlDeps): http.Server {
  return http.createServer((req, res) => {
    if (req.method === 'POST') return route(deps, req, res);
    req.resume();
    req.on('end', () => route(deps, req, res));
  });
}
