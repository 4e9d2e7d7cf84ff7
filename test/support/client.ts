import http from 'node:http';
/** A small HTTP client for tests: only the public API, over loopback. */
export interface Reply<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export async function call<T = any>(
  method: string,
  url: string,
  opts: { token?: string; json?: unknown; body?: string | Buffer; type?: string; headers?: Record<string, string> } = {},
): Promise<Reply<T>> {
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body: string | Buffer | undefined = opts.body;
  if (opts.json !== undefined) {
    body = JSON.stringify(opts.json);
    headers['content-type'] = 'application/json';
  }
  if (opts.type) headers['content-type'] = opts.type;
  const res = await fetch(url, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    /* not JSON */
  }
  return { status: res.status, headers: res.headers, body: parsed as T, text };
}

/** POST /login and return the token (throws when it fails). */
export async function login(api: string, credentials: { uuid: string; key: string } | { username: string; password: string }) {
  const r = await call('POST', `${api}/login`, { json: credentials });
  if (r.status !== 200) throw new Error(`login failed: ${r.status} ${r.text}`);
  return r.body.token as string;
}

export function ndjson(lines: unknown[]): string {
  return lines.map((l) => JSON.stringify(l)).join('\n') + '\n';
}

/** A stateless batch of `n` events. */
export function statelessBatch(n: number, extra: Record<string, unknown> = {}): string {
  const lines: unknown[] = [{ agent: { id: 'ignored', name: 'sim' } }];
  for (let i = 0; i < n; i++) lines.push({ module: 'logcollector', collector: 'file' }, { i, message: `event ${i}`, ...extra });
  return ndjson(lines);
}

/** A JSON request over the admin Unix socket (`path` below /api/v1): no token, the socket file's mode is the trust. */
export function adminCall(socketPath: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(
      { socketPath, path: `/api/v1${path}`, method, headers: data ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {} },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

/** PUT /packages/{name} over the admin Unix socket (an `upgrade` must name a stored package). */
export function adminUpload(socketPath: string, name: string, bytes: Buffer = Buffer.from('package')): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { socketPath, path: `/api/v1/packages/${name}`, method: 'PUT', headers: { 'content-type': 'application/octet-stream', 'content-length': bytes.length } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(bytes);
  });
}
