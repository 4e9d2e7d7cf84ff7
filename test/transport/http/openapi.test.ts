import { rmSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { z } from 'zod';
import { RegisterAgent } from '../../../src/commands/registerAgent.js';
import { loadConfig } from '../../../src/config.js';
import { startServer, type RunningServer } from '../../../src/main.js';
import { describedRoutes, fullPath } from '../../../src/transport/http/routeDocs.js';
import { call } from '../../support/client.js';
import { tempDir } from '../../support/server.js';

interface Ctx {
  server: RunningServer;
  dataDir: string;
  doc: any;
}

/** `METHOD /path` of every route the routers really serve (HEAD comes with GET). */
function servedRoutes(server: RunningServer): string[] {
  const out = new Set<string>();
  for (const router of server.routers) {
    for (const layer of router.stack) {
      for (const m of layer.methods) if (m !== 'HEAD') out.add(`${m} ${String(layer.path)}`);
    }
  }
  return [...out].sort();
}

const documentedRoutes = (): string[] =>
  describedRoutes()
    .map((d) => `${d.method.toUpperCase()} ${fullPath(d, '/api/v1')}`)
    .sort();

const OpenApi = suite<Ctx>('the OpenAPI document');
OpenApi.before(async (ctx) => {
  ctx.dataDir = tempDir();
  ctx.server = await startServer(
    loadConfig({ COMMS_API_DATA_DIR: ctx.dataDir, COMMS_API_HOST: '127.0.0.1', COMMS_API_PORT: '0', COMMS_API_INSECURE_HTTP: '1', COMMS_API_LOG_LEVEL: 'silent' }),
  );
  ctx.doc = (await call('GET', `${ctx.server.url}/api/v1/openapi.json`)).body;
});
OpenApi.after(async (ctx) => {
  await ctx.server.stop();
  rmSync(ctx.dataDir, { recursive: true, force: true });
});

OpenApi('every route the router serves is documented', ({ server }) => {
  const documented = new Set(documentedRoutes());
  const missing = servedRoutes(server).filter((r) => !documented.has(r));
  assert.equal(missing, [], `undocumented: ${missing.join(', ')}`);
});

OpenApi('every documented route exists', ({ server }) => {
  const served = new Set(servedRoutes(server));
  const ghosts = documentedRoutes().filter((r) => !served.has(r));
  assert.equal(ghosts, [], `documented but not served: ${ghosts.join(', ')}`);
});

OpenApi('is served to anyone as OpenAPI 3.1 with every documented path', ({ doc }) => {
  assert.is(doc.openapi, '3.1.0');
  assert.is(doc.info.title, 'comms-api');
  const paths = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops as object).map((m) => `${m.toUpperCase()} ${p}`));
  const expected = documentedRoutes().map((r) => r.replace(/:([A-Za-z0-9_]+)/g, '{$1}'));
  assert.equal(paths.sort(), expected.sort());
});

OpenApi('path parameters, security and error responses are declared', ({ doc }) => {
  for (const [path, ops] of Object.entries<Record<string, any>>(doc.paths)) {
    const names = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    for (const [method, op] of Object.entries(ops)) {
      const declared = (op.parameters ?? []).filter((p: any) => p.in === 'path').map((p: any) => p.name);
      assert.equal(declared.sort(), [...names].sort(), `${method} ${path}`);
      assert.ok(Array.isArray(op.security), `${method} ${path} security`);
      assert.ok(Object.keys(op.responses).some((s) => s.startsWith('2') || s === '304'), `${method} ${path} success`);
      if (op.security.length > 0) {
        assert.ok(op.responses['401'] && op.responses['403'], `${method} ${path} 401/403`);
      }
      assert.type(op.operationId, 'string');
    }
  }
  const ids = Object.values<Record<string, any>>(doc.paths).flatMap((ops) => Object.values(ops).map((o) => o.operationId));
  assert.is(new Set(ids).size, ids.length, 'operationIds are unique');
});

OpenApi('request bodies come from the zod schemas the routes validate with', ({ doc }) => {
  const schema = doc.paths['/api/v1/agents'].post.requestBody.content['application/json'].schema;
  const fromZod = z.toJSONSchema(RegisterAgent, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  delete fromZod.$schema;
  assert.equal(schema, fromZod);
  assert.is(schema.properties.key.pattern, '^[A-Za-z0-9]{32}$');
});

OpenApi('the routes marked public are really public, the others really need a token', async ({ server, doc }) => {
  for (const [path, ops] of Object.entries<Record<string, any>>(doc.paths)) {
    if (path === '/metrics' || path.includes('{')) continue;
    for (const [method, op] of Object.entries(ops)) {
      if (method !== 'get') continue;
      const r = await call('GET', `${server.url}${path}`);
      if (op.security.length === 0) assert.ok(r.status !== 401 && r.status !== 403, `${path}: ${r.status}`);
      else assert.is(r.status, 401, path);
    }
  }
});

OpenApi.run();
