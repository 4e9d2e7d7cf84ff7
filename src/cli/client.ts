import { readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { Agent, request, type Dispatcher } from 'undici';
import { storedToken, storeToken, RENEW_BEFORE_MS } from './credentials.js';
import { ApiError, UsageError } from './errors.js';

export interface Globals {
  config?: string;
  server?: string;
  insecure?: boolean;
  ca?: string;
  output?: string;
  yes?: boolean;
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: any;
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  json?: unknown;
  body?: Readable | Buffer | string;
  headers?: Record<string, string>;
  /** statuses answered without throwing (412 for the ETag dance...) */
  accept?: number[];
  /** the raw body stream instead of parsed JSON */
  raw?: boolean;
}

export interface Client {
  /** `admin socket <path>` or the server URL. */
  where: string;
  call(method: string, path: string, opts?: RequestOptions): Promise<Reply>;
  close(): Promise<void>;
}

function queryString(q: RequestOptions['query']): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q ?? {})) if (v !== undefined && v !== false) p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}

async function send(dispatcher: Dispatcher, base: string, method: string, path: string, auth: string | undefined, opts: RequestOptions): Promise<Reply> {
  const headers: Record<string, string> = { accept: 'application/json', ...(opts.headers ?? {}) };
  if (auth) headers.authorization = `Bearer ${auth}`;
  let body = opts.body;
  if (opts.json !== undefined) {
    body = JSON.stringify(opts.json);
    headers['content-type'] = 'application/json';
  }
  const res = await request(`${base}/api/v1${path}${queryString(opts.query)}`, {
    method: method as Dispatcher.HttpMethod,
    headers,
    dispatcher,
    ...(body !== undefined ? { body } : {}),
  });
  if (opts.raw && res.statusCode < 400) return { status: res.statusCode, headers: res.headers, body: res.body };
  const text = await res.body.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON
  }
  if (res.statusCode >= 400 && !(opts.accept ?? []).includes(res.statusCode)) {
    throw new ApiError(res.statusCode, typeof parsed === 'object' ? (parsed as never) : { detail: text.slice(0, 500) }, res.headers);
  }
  return { status: res.statusCode, headers: res.headers, body: parsed };
}

/** The token for `--server`: COMMS_API_TOKEN (a token or an API key), or the stored login, renewed near its expiry. */
async function credentialFor(dispatcher: Dispatcher, server: string): Promise<string> {
  const fromEnv = process.env.COMMS_API_TOKEN;
  if (fromEnv) return fromEnv;
  const stored = storedToken(server);
  if (!stored) throw new UsageError(`not logged in to ${server}: run \`comms-api login --server ${server}\` (or set COMMS_API_TOKEN to an API key)`);
  const left = Date.parse(stored.expires_at) - Date.now();
  if (left <= 0) throw new UsageError(`the login to ${server} expired: run \`comms-api login --server ${server}\` again`);
  if (left > RENEW_BEFORE_MS) return stored.token;
  const renewed = await send(dispatcher, server, 'POST', '/login/renew', stored.token, {});
  storeToken(server, { token: renewed.body.token, expires_at: renewed.body.expires_at, username: stored.username });
  return renewed.body.token as string;
}

/** The agent that carries requests: the admin Unix socket, or HTTPS with `--ca FILE` / `--insecure`. */
export function dispatcherFor(g: Globals, socketPath: string | undefined): Dispatcher {
  if (!g.server) return new Agent({ connect: { socketPath: socketPath! } });
  const connect: Record<string, unknown> = {};
  if (g.ca) {
    try {
      connect.ca = readFileSync(g.ca);
    } catch (err) {
      throw new UsageError(`--ca: cannot read ${g.ca} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  }
  if (g.insecure) connect.rejectUnauthorized = false;
  return new Agent({ connect });
}

export function normaliseServer(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UsageError(`--server: "${url}" is not a URL (like https://host:27000)`);
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new UsageError('--server: the URL must start with https:// (or http://)');
  return u.origin;
}

/**
 * Talks to a server: through the admin socket of the data folder (operator rights, no login) by
 * default, or to `--server URL` with the stored login token or COMMS_API_TOKEN.
 */
export async function openClient(g: Globals, adminSocket: () => string): Promise<Client> {
  if (!g.server) {
    const socketPath = adminSocket();
    const dispatcher = dispatcherFor(g, socketPath);
    return {
      where: `admin socket ${socketPath}`,
      call: (method, path, opts = {}) => send(dispatcher, 'http://localhost', method, path, undefined, opts),
      close: () => dispatcher.close(),
    };
  }
  const server = normaliseServer(g.server);
  const dispatcher = dispatcherFor(g, undefined);
  let token: Promise<string> | undefined;
  return {
    where: server,
    async call(method, path, opts = {}) {
      token ??= credentialFor(dispatcher, server);
      try {
        return await send(dispatcher, server, method, path, await token, opts);
      } catch (err) {
        if (err instanceof ApiError && err.status === 401 && !process.env.COMMS_API_TOKEN) {
          err.message += `\n  log in again: comms-api login --server ${server} -u NAME`;
        }
        throw err;
      }
    },
    close: () => dispatcher.close(),
  };
}

/** POST /login with a password; the token is stored for the server. */
export async function loginTo(g: Globals, username: string, password: string): Promise<{ expires_at: string }> {
  const server = normaliseServer(g.server!);
  const dispatcher = dispatcherFor(g, undefined);
  try {
    const r = await send(dispatcher, server, 'POST', '/login', undefined, { json: { username, password } });
    storeToken(server, { token: r.body.token, expires_at: r.body.expires_at, username });
    return { expires_at: r.body.expires_at };
  } finally {
    await dispatcher.close();
  }
}
