// The API client. The token lives in this module's memory only (no storage, no cookie): a reload logs out.
export const API = '/api/v1';

let session = null;
let onExpired = () => {};
let routes = null;

export const currentSession = () => session;
export const isOperator = () => session?.role === 'operator';
export function onSessionExpired(fn) {
  onExpired = fn;
}

function claims(token) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(part));
  } catch {
    return {};
  }
}

export async function login(username, password) {
  const r = await call('POST', '/login', { json: { username, password }, anonymous: true });
  if (r.status !== 200) return r;
  const c = claims(r.body.token);
  if (c.role !== 'operator' && c.role !== 'auditor') return { status: 403, body: { title: 'Forbidden', detail: 'the console is for operators and auditors' } };
  session = { token: r.body.token, user: c.sub, role: c.role, expiresAt: r.body.expires_at };
  routes = null;
  return r;
}

export function logout() {
  session = null;
  routes = null;
}

/** `{status, ok, headers, body}`; bodies are parsed as JSON when they are JSON. Never throws for HTTP errors. */
export async function call(method, path, { json, body, headers = {}, anonymous = false } = {}) {
  const h = { ...headers };
  if (session && !anonymous) h.authorization = `Bearer ${session.token}`;
  if (json !== undefined) {
    h['content-type'] = 'application/json';
    body = JSON.stringify(json);
  }
  let res;
  try {
    res = await fetch(API + path, { method, headers: h, body, cache: 'no-store' });
  } catch (err) {
    return { status: 0, ok: false, headers: new Headers(), body: { title: 'Network error', detail: String(err?.message ?? err) } };
  }
  const text = await res.text();
  let parsed = text;
  if (/json/.test(res.headers.get('content-type') ?? '')) {
    try {
      parsed = JSON.parse(text);
    } catch {
      /* keep the text */
    }
  }
  if (res.status === 401 && session && !anonymous) {
    session = null;
    onExpired();
  }
  return { status: res.status, ok: res.ok, headers: res.headers, body: parsed };
}

export const get = (path) => call('GET', path);

/** Query string from an object, leaving out empty values. */
export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') u.set(k, String(v));
  const s = u.toString();
  return s ? `?${s}` : '';
}

/** Whether this server documents `method path` (OpenAPI path with {params}); used to hide what it does not offer. */
export async function hasRoute(method, path) {
  if (!routes) {
    const r = await call('GET', '/openapi.json', { anonymous: true });
    routes = new Set();
    if (r.ok && r.body?.paths) {
      for (const [p, ops] of Object.entries(r.body.paths)) {
        for (const m of Object.keys(ops)) routes.add(`${m.toUpperCase()} ${p.replace(/\{[^}]+\}/g, '{}')}`);
      }
    }
  }
  return routes.has(`${method.toUpperCase()} ${API}${path.replace(/\{[^}]+\}/g, '{}')}`);
}

/** Every agent (pages of 1000, at most `maxPages`), with `truncated` when there were more. */
export async function allAgents(params = {}, maxPages = 10) {
  const agents = [];
  let cursor;
  for (let i = 0; i < maxPages; i++) {
    const r = await get(`/agents${qs({ ...params, limit: 1000, cursor })}`);
    if (!r.ok) return { agents, error: r };
    agents.push(...r.body.agents);
    cursor = r.body.next_cursor;
    if (!cursor) return { agents, counts: r.body.counts, truncated: false };
  }
  return { agents, truncated: true };
}

/** The most recent commands (issued in the last `days`), newest first, from the history's issue items. */
export async function recentCommands({ days = 7, max = 50 } = {}) {
  const since = new Date(Date.now() - days * 86400_000).toISOString();
  const ids = new Map();
  let cursor;
  for (let i = 0; i < 5; i++) {
    const r = await get(`/commands/history${qs({ status: 'pending', since, limit: 1000, cursor })}`);
    if (!r.ok) return { commands: [], error: r };
    for (const it of r.body.items) if (!ids.has(it.command)) ids.set(it.command, it);
    cursor = r.body.next_cursor;
    if (!cursor) break;
  }
  const newest = [...ids.values()].reverse().slice(0, max);
  return { commands: newest };
}
