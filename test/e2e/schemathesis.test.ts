import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { call, login } from '../support/client.js';
import { addUser, AGENT_KEY, ROOT, spawnServer, tempDir, type ServerProcess } from '../support/server.js';

/**
 * Schemathesis (PyPI; `.ci/run` installs it) fuzzes the real server process from its own OpenAPI
 * document with an agent, an auditor and an operator token, and checks one property:
 * no input gets a 5xx. Bounded: a fixed seed and a few examples per operation.
 */
const PYTHON = process.env.PYTHON ?? 'python3';
const HOOKS = join(ROOT, 'test/e2e/schemathesis_hooks.py');
const MAX_EXAMPLES = process.env.SCHEMATHESIS_MAX_EXAMPLES ?? '10';

function schemathesis(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const proc = spawn(PYTHON, ['-m', 'schemathesis.cli', ...args], {
      env: { ...process.env, SCHEMATHESIS_HOOKS: HOOKS, NO_COLOR: '1', PYTHONUNBUFFERED: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    proc.stdout.on('data', (d) => (out += d));
    proc.stderr.on('data', (d) => (out += d));
    proc.on('error', (err) => resolve({ code: -1, out: `${out}\ncannot run ${PYTHON} -m schemathesis.cli: ${err.message}` }));
    proc.on('close', (code) => resolve({ code, out }));
  });
}

function runAgainst(server: ServerProcess, token: string, extra: string[] = []) {
  return schemathesis([
    'run',
    `${server.api}/openapi.json`,
    '--checks', 'not_a_server_error',
    '-H', `Authorization: Bearer ${token}`,
    '--max-examples', MAX_EXAMPLES,
    '--seed', process.env.SCHEMATHESIS_SEED ?? '20261127',
    '--generation-database', 'none',
    // one worker: CPython 3.11 before 3.11.9 can fail in ast.parse when hypothesis describes strategies from
    // two threads at once ("AST constructor recursion depth mismatch"), which aborts the run
    '--workers', '1',
    '--request-timeout', '20',
    '--no-color',
    ...extra,
  ]);
}

/** Lines of the server's log that recorded a 5xx answer. */
const serverErrors = (server: ServerProcess) =>
  server
    .output()
    .split('\n')
    .filter((l) => /"status":5\d\d/.test(l) || /request failed/.test(l));

interface Ctx {
  dataDir: string;
  server: ServerProcess;
  operator: string;
  auditor: string;
  agent: string;
}

const Fuzz = suite<Ctx>('schemathesis against the OpenAPI document');
Fuzz.before(async (ctx) => {
  ctx.dataDir = tempDir();
  await addUser(ctx.dataDir, 'olga', 'operator', 'operator-password');
  await addUser(ctx.dataDir, 'audrey', 'auditor', 'auditor-password');
  ctx.server = await spawnServer(ctx.dataDir, { COMMS_API_LOG_LEVEL: 'warn', COMMS_API_MAX_PACKAGE_BYTES: String(1 << 20) });
  ctx.operator = await login(ctx.server.api, { username: 'olga', password: 'operator-password' });
  ctx.auditor = await login(ctx.server.api, { username: 'audrey', password: 'auditor-password' });
  const r = await call('POST', `${ctx.server.api}/agents`, { token: ctx.operator, json: { uuid: 'fuzz-agent', key: AGENT_KEY, groups: ['default'] } });
  assert.is(r.status, 201, r.text);
  ctx.agent = await login(ctx.server.api, { uuid: 'fuzz-agent', key: AGENT_KEY });
});
Fuzz.after(async (ctx) => {
  await ctx.server.kill();
  rmSync(ctx.dataDir, { recursive: true, force: true });
});

// the agent first: the operator's run may delete agents (GET /agents links to DELETE /agents/{uuid})
Fuzz('no input from an agent gets a server error', async (ctx) => {
  // GET /commands is the agent's stream (SSE or a long-poll of up to 15 minutes): its own suites cover it
  const r = await runAgainst(ctx.server, ctx.agent, ['--exclude-operation-id', 'getCommands']);
  assert.is(r.code, 0, r.out.slice(-6000));
  assert.match(r.out, /passed/);
  assert.equal(serverErrors(ctx.server), []);
  // the run was made with a token that worked all along
  assert.is((await call('GET', `${ctx.server.api}/configuration`, { token: ctx.agent })).status, 200);
});

Fuzz('no input from an auditor gets a server error', async (ctx) => {
  const r = await runAgainst(ctx.server, ctx.auditor);
  assert.is(r.code, 0, r.out.slice(-6000));
  assert.match(r.out, /passed/);
  assert.equal(serverErrors(ctx.server), []);
  assert.is((await call('GET', `${ctx.server.api}/journal/verify`, { token: ctx.auditor })).status, 200);
});

Fuzz('no input from an operator gets a server error', async (ctx) => {
  // disabling or deleting users would also disable the run's own user, whose token must work all along
  // (test/transport/http/identity.test.ts covers those routes)
  const r = await runAgainst(ctx.server, ctx.operator, ['--exclude-operation-id', 'postUsersNameDisable', '--exclude-operation-id', 'deleteUsersName']);
  assert.is(r.code, 0, r.out.slice(-6000));
  assert.match(r.out, /passed/);
  assert.equal(serverErrors(ctx.server), []);
  assert.is((await call('GET', `${ctx.server.api}/agents`, { token: ctx.operator })).status, 200);
});

Fuzz.run();
