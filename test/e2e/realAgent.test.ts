import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { call, login } from '../support/client.js';
import { startEngine, type EngineHandle } from '../support/engine/engine.js';
import { addUser, spawnServer, tempDir, type ServerProcess } from '../support/server.js';
import { assertAgentRuns, createAgentHome, SHARED_DIR, type AgentHome } from '../support/wazuhAgent.js';

/**
 * The real, unmodified Wazuh agent (../shared/wazuh-agent) against the built server over HTTPS
 * (self-signed), with the reference engine and the run's OpenSearch node: it enrolls with an
 * operator's credentials, sends its log lines and inventory, and runs set-group, fetch-config and
 * restart. Everything is asserted from outside: the engine's records, the indices, the API, the
 * server's request log. Waits poll with generous deadlines (a loaded 2-core machine).
 */
process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0'; // the server's self-signed pair; this process talks to nothing else over TLS

const OPENSEARCH_URL: string = process.env.OPENSEARCH_URL ?? '';
if (!OPENSEARCH_URL) throw new Error('OPENSEARCH_URL is not set: run this file through scripts/test.mjs (it starts OpenSearch)');
const PASSWORD = 'an operator password for enrolling';

interface World {
  dataDir: string;
  engine: EngineHandle;
  server: ServerProcess;
  agent: AgentHome;
  operator: string;
  uuid: string;
  group: string;
  /** What /etc/wazuh-agent held before (restored afterwards): set-group empties the shared folder. */
  sharedBackup: string | null;
  etcExisted: boolean;
}

async function until<T>(what: string, f: () => Promise<T | undefined | false>, timeoutMs = 180_000, w?: World): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) {
      const tail = w ? `\n--- agent output (tail) ---\n${w.agent.output().slice(-4000)}\n--- server output (tail) ---\n${w.server.output().slice(-4000)}` : '';
      throw new Error(`gave up waiting ${timeoutMs / 1000} s for ${what}${tail}`);
    }
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** The engine's records of the agent's log lines, as `event.original` strings. */
async function linesAtEngine(engine: EngineHandle): Promise<string[]> {
  const out: string[] = [];
  for (const r of await engine.received()) {
    if (r.module !== 'logcollector') continue;
    const original = (JSON.parse(r.data) as { event?: { original?: unknown } }).event?.original;
    if (typeof original === 'string') out.push(original);
  }
  return out;
}

/** Documents in `index` (of one agent when `agent` is given: `agent.id`, set by the server from the token). */
async function osCount(index: string, agent?: string): Promise<number> {
  await fetch(`${OPENSEARCH_URL}/${index}/_refresh`, { method: 'POST' });
  const query = agent ? { query: { term: { 'agent.id.keyword': agent } } } : { query: { match_all: {} } };
  const r = await fetch(`${OPENSEARCH_URL}/${index}/_count`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(query) });
  if (r.status === 404) return 0;
  return ((await r.json()) as { count: number }).count;
}

async function commandOutcome(w: World, id: string): Promise<any> {
  const r = await call('GET', `${w.server.api}/commands/${id}`, { token: w.operator });
  assert.is(r.status, 200, r.text);
  return r.body.targets[0];
}

/** Issues a command to the agent and waits until its target is finished; returns that target. */
async function runCommand(w: World, action: unknown): Promise<{ id: string; target: any }> {
  const issued = await call('POST', `${w.server.api}/commands`, { token: w.operator, json: { action, target: { type: 'agent', id: w.uuid } } });
  assert.is(issued.status, 201, issued.text);
  const id = issued.body.id as string;
  const target = await until(`command ${JSON.stringify(action)} to finish`, async () => {
    const t = await commandOutcome(w, id);
    return ['success', 'failure', 'expired'].includes(t.state) ? t : undefined;
  }, 240_000, w);
  return { id, target };
}

/** pino request lines of the server (`msg: "request"`), parsed. */
function requestLines(server: ServerProcess): Array<{ method: string; path: string; status: number; role?: string }> {
  return server
    .output()
    .split('\n')
    .filter((l) => l.startsWith('{') && l.includes('"msg":"request"'))
    .map((l) => JSON.parse(l));
}

const RealAgent = suite<World>('the real Wazuh agent, end to end');

RealAgent.before(async (w) => {
  // uvu fails every test without a word when `before` throws: say why
  await setUp(w).catch((err: unknown) => {
    console.error('setting up the real-agent world failed:', err);
    throw err;
  });
});

async function setUp(w: World): Promise<void> {
  assertAgentRuns(); // fails (never skips) when the binary cannot run here, saying how to install its runtime
  w.etcExisted = existsSync('/etc/wazuh-agent');
  w.sharedBackup = null;
  if (existsSync(SHARED_DIR) && readdirSync(SHARED_DIR).length > 0) {
    w.sharedBackup = mkdtempSync(join(tmpdir(), 'wazuh-shared-backup-'));
    cpSync(SHARED_DIR, w.sharedBackup, { recursive: true });
  }
  w.group = `e2e-${randomBytes(4).toString('hex')}`;
  w.dataDir = tempDir();
  await addUser(w.dataDir, 'enroller', 'operator', PASSWORD);
  w.engine = await startEngine();
  for (const index of ['wazuh-states-inventory-*', 'wazuh-states-command']) await fetch(`${OPENSEARCH_URL}/${index}`, { method: 'DELETE' }).catch(() => {});
  w.server = await spawnServer(w.dataDir, {
    COMMS_API_INSECURE_HTTP: '0',
    COMMS_API_ENGINE_SOCKET: w.engine.socket,
    COMMS_API_INDEXER_URL: OPENSEARCH_URL,
    COMMS_API_LOG_LEVEL: 'info',
  });
  assert.match(w.server.url, /^https:/);
  w.operator = await login(w.server.api, { username: 'enroller', password: PASSWORD });
  w.agent = createAgentHome({ serverUrl: w.server.url });
}

RealAgent.after(async (w) => {
  await w.agent?.stop();
  await w.server?.kill();
  await w.engine?.stop();
  w.agent?.remove();
  if (w.dataDir) rmSync(w.dataDir, { recursive: true, force: true });
  for (const index of ['wazuh-states-inventory-*', 'wazuh-states-command']) await fetch(`${OPENSEARCH_URL}/${index}`, { method: 'DELETE' }).catch(() => {});
  // what the agent wrote under /etc/wazuh-agent: its group files (set-group empties the folder first)
  rmSync(join(SHARED_DIR, `${w.group}.yml`), { force: true });
  if (!w.etcExisted) rmSync('/etc/wazuh-agent', { recursive: true, force: true });
  if (w.sharedBackup) {
    cpSync(w.sharedBackup, SHARED_DIR, { recursive: true });
    rmSync(w.sharedBackup, { recursive: true, force: true });
  }
});

RealAgent('wazuh-agent --enroll registers it with an operator\'s credentials, and its host facts are listed', async (w) => {
  const r = await w.agent.enroll({ url: w.server.url, user: 'enroller', password: PASSWORD, name: 'e2e-agent' });
  assert.is(r.code, 0, `enrollment failed: ${r.output}`);
  assert.match(r.output, /enrolled/);
  const listed = await call('GET', `${w.server.api}/agents`, { token: w.operator });
  const agent = listed.body.agents.find((a: { name: string }) => a.name === 'e2e-agent');
  assert.ok(agent, `the enrolled agent is listed: ${listed.text}`);
  w.uuid = agent.uuid;
  assert.is(agent.type, 'Endpoint');
  assert.match(agent.version, /^v\d/);
  assert.type(agent.host.hostname, 'string');
  assert.type(agent.host.os.name, 'string');
  assert.ok(Array.isArray(agent.host.ip));
});

RealAgent('its log lines reach the engine, and its inventory the platform\'s indices', async (w) => {
  w.agent.start();
  await until('the agent to log in', async () => requestLines(w.server).some((l) => l.path === '/api/v1/authentication' && l.status === 200), 120_000, w);
  const lines = Array.from({ length: 5 }, (_, i) => `e2e line ${i} ${randomBytes(4).toString('hex')}`);
  appendFileSync(w.agent.logFile, lines.map((l) => `${l}\n`).join(''));
  await until('the lines at the engine', async () => {
    const seen = await linesAtEngine(w.engine);
    return lines.every((l) => seen.includes(l));
  }, 180_000, w);
  for (const index of ['wazuh-states-inventory-packages', 'wazuh-states-inventory-system']) {
    await until(`documents of the agent in ${index}`, async () => (await osCount(index, w.uuid)) > 0, 240_000, w);
  }
  const agent = (await call('GET', `${w.server.api}/agents/${w.uuid}`, { token: w.operator })).body;
  assert.is(agent.status, 'active');
});

RealAgent('set-group (its group file uploaded as a package), fetch-config and restart each end success, delivered once', async (w) => {
  const put = await call('PUT', `${w.server.api}/packages/${w.group}.yml`, { token: w.operator, body: 'sca:\n  enabled: false\n', type: 'application/octet-stream' });
  assert.ok(put.status === 200 || put.status === 201, put.text);
  const setGroup = await runCommand(w, { name: 'set-group', args: { groups: [w.group] } });
  assert.equal([setGroup.target.state, setGroup.target.code], ['success', 0], JSON.stringify(setGroup.target));
  assert.ok(existsSync(join(SHARED_DIR, `${w.group}.yml`)), 'the agent stored the group file it fetched');
  const fetchConfig = await runCommand(w, { name: 'fetch-config' });
  assert.equal([fetchConfig.target.state, fetchConfig.target.code], ['success', 0], JSON.stringify(fetchConfig.target));
  const restart = await runCommand(w, { name: 'restart' });
  assert.equal([restart.target.state, restart.target.message], ['success', 'Agent restarted successfully'], JSON.stringify(restart.target));
  for (const { id } of [setGroup, fetchConfig, restart]) {
    const h = await call('GET', `${w.server.api}/commands/history?command=${id}`, { token: w.operator });
    assert.equal(h.body.items.map((i: { state: string }) => i.state), ['pending', 'delivered', 'success'], `history of ${id}`);
    assert.equal(h.body.items.at(-1).code, 0);
  }
  const agent = (await call('GET', `${w.server.api}/agents/${w.uuid}`, { token: w.operator })).body;
  assert.equal(agent.groups, [w.group]);
});

RealAgent('after the restart it still sends; every line reached the engine exactly once', async (w) => {
  const more = Array.from({ length: 3 }, (_, i) => `e2e after restart ${i} ${randomBytes(4).toString('hex')}`);
  appendFileSync(w.agent.logFile, more.map((l) => `${l}\n`).join(''));
  await until('the lines sent after the restart at the engine', async () => {
    const seen = await linesAtEngine(w.engine);
    return more.every((l) => seen.includes(l));
  }, 180_000, w);
  const seen = await linesAtEngine(w.engine);
  const mine = seen.filter((l) => l.startsWith('e2e '));
  assert.is(mine.length, 8, `each of the 8 lines once: ${JSON.stringify(mine)}`);
  assert.is(new Set(mine).size, 8);
});

RealAgent('the server answered none of the agent\'s requests with a 4xx or 5xx', async (w) => {
  const lines = requestLines(w.server);
  assert.ok(lines.some((l) => l.path === '/api/v1/events/stateful'), 'stateful batches were sent');
  assert.ok(lines.some((l) => l.path === '/api/v1/files'), 'group files were fetched');
  const bad = lines.filter((l) => l.status >= 400);
  assert.equal(bad, [], `requests answered with an error: ${JSON.stringify(bad)}`);
});

RealAgent.run();
