import http from 'node:http';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { call, type Reply } from '../../support/client.js';
import { runCli } from '../../support/server.js';
import { expiredToken, forgedToken, unsignedToken } from '../../support/tokens.js';
import { headSeq, startWorld, type World } from './management.support.js';

/**
 * Every documented route (the OpenAPI document, which a test keeps equal to the router), tried
 * with bad input: missing, expired, forged and unsigned tokens, the wrong role, a wrong content
 * type, a malformed body, an oversize body, path traversal. Each must answer the right status
 * as application/problem+json and leave the journal as it was.
 */
type Role = 'agent' | 'operator' | 'auditor';
interface Operation {
  method: string;
  path: string;
  op: any;
}
interface Ctx {
  w: World;
  ops: Operation[];
  tokens: Record<Role, string>;
}

const LIMIT = 64 * 1024;
const ROLES: Role[] = ['agent', 'operator', 'auditor'];

/** Who may call an operation, from its description ("Who: operator, auditor."). */
function rolesOf(op: any): Role[] | 'anyone' {
  if (op.security.length === 0) return 'anyone';
  const who = /Who: ([^.]+)\./.exec(op.description)![1]!;
  return who.split(', ').filter((r): r is Role => (ROLES as string[]).includes(r));
}

/** A plausible value for a parameter, from its schema. */
function sampleValue(schema: any): string {
  if (schema?.enum) return String(schema.enum[0]);
  if (schema?.type === 'integer' || schema?.type === 'number') return String(Math.max(1, schema.minimum ?? 1));
  if (schema?.type === 'boolean') return 'true';
  return 'sample-1';
}

function urlOf(w: World, o: Operation, pathValue?: string): string {
  const params: any[] = o.op.parameters ?? [];
  let path = o.path;
  for (const p of params.filter((x) => x.in === 'path')) path = path.replace(`{${p.name}}`, pathValue ?? sampleValue(p.schema));
  const query = params
    .filter((x) => x.in === 'query' && x.required)
    .map((x) => `${encodeURIComponent(x.name)}=${encodeURIComponent(sampleValue(x.schema))}`)
    .join('&');
  return `${w.server.url}${path}${query ? `?${query}` : ''}`;
}

/** Headers a route may check before it reads the body (so the body check is reached). */
// x-forwarded-for: the suite plays a remote caller behind a proxy (GET /metrics is open to direct loopback callers only).
const PRECONDITIONS = { 'if-match': '*', 'idempotency-key': 'bad-input-suite', 'x-forwarded-for': '203.0.113.9' };

/** A request sent exactly as written: no URL normalisation of `..` or `%2e%2e` by the client. */
function raw(method: string, url: string, token: string | undefined, body?: { data: string; type: string }): Promise<{ status: number; type: string; text: string }> {
  const u = new URL(url);
  const rawPath = url.slice(u.origin.length);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...PRECONDITIONS };
    if (token) headers.authorization = `Bearer ${token}`;
    if (body) headers['content-type'] = body.type;
    const req = http.request({ host: u.hostname, port: u.port, method, path: rawPath, headers }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), text }));
    });
    req.on('error', reject);
    req.end(body?.data);
  });
}

function assertProblem(r: Reply, status: number, what: string): void {
  assert.is(r.status, status, `${what}: expected ${status}, got ${r.status} ${r.text.slice(0, 300)}`);
  assert.is(r.headers.get('content-type'), 'application/problem+json', `${what}: content type`);
  assert.is(r.body.status, status, `${what}: body status`);
  assert.type(r.body.title, 'string');
}

const BadInput = suite<Ctx>('bad input on every route');
BadInput.before(async (ctx) => {
  ctx.w = await startWorld({ 'agent-1': ['default'] }, { COMMS_API_MAX_BODY_BYTES: String(LIMIT), COMMS_API_MAX_PACKAGE_BYTES: String(LIMIT) });
  ctx.tokens = { agent: ctx.w.agents['agent-1']!, operator: ctx.w.operator, auditor: ctx.w.auditor };
  const doc = (await call('GET', `${ctx.w.server.api}/openapi.json`)).body;
  ctx.ops = Object.entries<Record<string, any>>(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({ method: method.toUpperCase(), path, op })),
  );
  assert.ok(ctx.ops.length >= 10, 'the document lists the routes');
});
BadInput.after((ctx) => ctx.w.server.stop());

/** Runs `cases` and checks that none of them appended to the journal. */
async function unchanged(w: World, what: string, cases: () => Promise<void>): Promise<void> {
  const before = headSeq(w.server);
  await cases();
  assert.is(headSeq(w.server), before, `${what} appended to the journal`);
}

BadInput('no token, an expired, a forged and an unsigned token: 401 everywhere a role is needed', async ({ w, ops }) => {
  for (const o of ops) {
    const roles = rolesOf(o.op);
    if (roles === 'anyone') continue;
    const role = roles[0]!;
    const sub = role === 'agent' ? 'agent-1' : 'olga';
    await unchanged(w, `${o.method} ${o.path}`, async () => {
      const bad = { none: undefined, expired: expiredToken(w.server.dataDir, sub, role), forged: forgedToken(sub, role), unsigned: unsignedToken(sub, role) };
      for (const [kind, token] of Object.entries(bad)) {
        const r = await call(o.method, urlOf(w, o), { ...(token ? { token } : {}), headers: PRECONDITIONS, ...(o.op.requestBody ? { json: {} } : {}) });
        assertProblem(r, 401, `${kind} token on ${o.method} ${o.path}`);
      }
      const garbage = await call(o.method, urlOf(w, o), { headers: { authorization: 'Bearer not.a.jwt', ...PRECONDITIONS } });
      assertProblem(garbage, 401, `garbage token on ${o.method} ${o.path}`);
      const basic = await call(o.method, urlOf(w, o), { headers: { ...PRECONDITIONS, authorization: 'Basic b2xnYTpvcGVyYXRvci1wYXNzd29yZA==' } });
      assertProblem(basic, 401, `basic auth on ${o.method} ${o.path}`);
    });
  }
});

BadInput('the wrong role: 403', async ({ w, ops, tokens }) => {
  let tried = 0;
  for (const o of ops) {
    const roles = rolesOf(o.op);
    if (roles === 'anyone') continue;
    for (const role of ROLES.filter((r) => !roles.includes(r))) {
      await unchanged(w, `${role} on ${o.method} ${o.path}`, async () => {
        const r = await call(o.method, urlOf(w, o), { token: tokens[role], headers: PRECONDITIONS, ...(o.op.requestBody ? { json: {} } : {}) });
        assertProblem(r, 403, `${role} on ${o.method} ${o.path}`);
      });
      tried += 1;
    }
  }
  assert.ok(tried >= 10);
});

/** Operations with a request body, with the media types they accept. */
function withBody(ops: Operation[]): Array<Operation & { types: string[] }> {
  return ops.filter((o) => o.op.requestBody).map((o) => ({ ...o, types: Object.keys(o.op.requestBody.content) }));
}

BadInput('a wrong content type: 415', async ({ w, ops, tokens }) => {
  for (const o of withBody(ops)) {
    const roles = rolesOf(o.op);
    const token = roles === 'anyone' ? undefined : tokens[roles[0]!];
    await unchanged(w, `${o.method} ${o.path}`, async () => {
      for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml']) {
        if (o.types.includes(type)) continue;
        const r = await call(o.method, urlOf(w, o), { ...(token ? { token } : {}), body: 'a=1', type, headers: PRECONDITIONS });
        assertProblem(r, 415, `${type} on ${o.method} ${o.path}`);
      }
      const none = await call(o.method, urlOf(w, o), { ...(token ? { token } : {}), body: '{}', headers: PRECONDITIONS });
      assertProblem(none, 415, `no content type on ${o.method} ${o.path}`);
    });
  }
});

BadInput('a malformed body: 400', async ({ w, ops, tokens }) => {
  for (const o of withBody(ops)) {
    const roles = rolesOf(o.op);
    const token = roles === 'anyone' ? undefined : tokens[roles[0]!];
    const type = o.types[0]!;
    if (type === 'application/octet-stream') continue; // any bytes are a valid package
    await unchanged(w, `${o.method} ${o.path}`, async () => {
      const bodies = type.includes('json') && !type.includes('ndjson')
        ? ['{"broken":', '[1,2', 'null', '"a string"', '\u0000', Buffer.from([0xff, 0xfe, 0x7b, 0x7d])]
        : ['not json at all\n', '{"agent":{}}\n{"module":"m"}\n', '\n\n', Buffer.from([0xff, 0xfe, 0x0a])];
      for (const body of bodies) {
        const r = await call(o.method, urlOf(w, o), { ...(token ? { token } : {}), body, type, headers: PRECONDITIONS });
        assertProblem(r, 400, `${JSON.stringify(String(body))} as ${type} on ${o.method} ${o.path}`);
      }
    });
  }
});

BadInput('an oversize body: 413, whether announced by Content-Length or not', async ({ w, ops, tokens }) => {
  const huge = Buffer.alloc(2 * 1024 * 1024, 0x20); // over every limit: 64 KiB bodies, 1 MiB JSON documents
  for (const o of withBody(ops)) {
    const roles = rolesOf(o.op);
    const token = roles === 'anyone' ? undefined : tokens[roles[0]!];
    await unchanged(w, `${o.method} ${o.path}`, async () => {
      const r = await call(o.method, urlOf(w, o), { ...(token ? { token } : {}), body: huge, type: o.types[0]!, headers: PRECONDITIONS });
      assertProblem(r, 413, `oversize ${o.method} ${o.path}`);
    });
  }
});

BadInput('path traversal in path parameters: 400 or 404, never a file', async ({ w, ops, tokens }) => {
  let tried = 0;
  for (const o of ops.filter((x) => (x.op.parameters ?? []).some((p: any) => p.in === 'path'))) {
    const roles = rolesOf(o.op);
    const token = roles === 'anyone' ? undefined : tokens[roles[0]!];
    for (const evil of ['..', '../..', '..%2F..%2Fcomms.db', '%2e%2e%2f%2e%2e%2fkeys%2fjwt-private.pem', '..%5C..%5Ccomms.db', '%2e%2e', 'a%00b']) {
      await unchanged(w, `${o.method} ${o.path}`, async () => {
        const body = o.op.requestBody ? { data: '{}', type: Object.keys(o.op.requestBody.content)[0]! } : undefined;
        const r = await raw(o.method, urlOf(w, o, evil), token, body);
        assert.ok(r.status === 400 || r.status === 404, `${evil} on ${o.method} ${o.path}: ${r.status} ${r.text.slice(0, 200)}`);
        assert.is(r.type, 'application/problem+json');
        assert.not.match(r.text, /PRIVATE KEY|SQLite format/);
      });
      tried += 1;
    }
  }
  assert.ok(tried >= 10);
});

BadInput('journal stats from the CLI shows the same head before and after a round of bad input', async ({ w, ops }) => {
  const stats = async () => {
    const r = await runCli(['journal', 'stats'], { COMMS_API_DATA_DIR: w.server.dataDir });
    assert.is(r.code, 0, r.stderr);
    return JSON.parse(r.stdout).head_seq as number;
  };
  const before = await stats();
  for (const o of ops) await raw(o.method, urlOf(w, o), 'x', o.method === 'GET' ? undefined : { data: '{', type: 'application/json' });
  assert.is(await stats(), before);
});

BadInput.run();
