/**
 * Registered, logged-in agents for the fan-out benchmark, built once through the public API and
 * kept in bench/.cache/. Registering and logging in cost one scrypt each (tens of ms on this
 * machine), so 10,000 agents take minutes: a fixture of N agents is built by extending the largest
 * smaller one, and every run works on a fresh copy of it (tokens live 7 days; older ones are renewed).
 *
 *   const fx = await agentsFixture(10_000);   // { dataDir (a temp copy), agents: [{uuid, token}] }
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT } from '../support.js';
import { jsonRequest, pool, startCommsApi, type BenchServer } from '../lib/commsApi.js';

export const CACHE = join(ROOT, 'bench/.cache');
const KEY = 'benchAgentKey0123456789abcdefABC';
const TOKEN_TTL = 7 * 24 * 3600;
/** A fixture whose tokens expire sooner than this is renewed. */
const MIN_TOKEN_LIFE_MS = 2 * 3600 * 1000;

export interface BenchAgent {
  uuid: string;
  token: string;
}

interface Manifest {
  n: number;
  tokensExpireAt: number;
  agents: BenchAgent[];
}

/** Zero-padded, so the server's `ORDER BY uuid` is the index order (agent 0 is served first). */
export const agentUuid = (i: number) => `bench-agent-${String(i).padStart(6, '0')}`;

const fixtureDir = (n: number) => join(CACHE, `agents-${n}`);

function readManifest(dir: string): Manifest | null {
  try {
    return JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as Manifest;
  } catch {
    return null;
  }
}

function largestBelow(n: number): { n: number; dir: string } | null {
  if (!existsSync(CACHE)) return null;
  const sizes = readdirSync(CACHE)
    .map((name) => /^agents-(\d+)$/.exec(name))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .filter((k) => k < n && readManifest(fixtureDir(k)) !== null)
    .sort((a, b) => b - a);
  return sizes.length > 0 ? { n: sizes[0]!, dir: fixtureDir(sizes[0]!) } : null;
}

function progress(label: string, done: number, total: number): void {
  if (done % 500 === 0 || done === total) process.stderr.write(`  ${label}: ${done}/${total}\n`);
}

async function loginAll(server: BenchServer, uuids: readonly string[]): Promise<BenchAgent[]> {
  let done = 0;
  return pool(uuids, 4, async (uuid) => {
    const r = await jsonRequest<{ token: string }>({ host: '127.0.0.1', port: server.port }, 'POST', '/api/v1/login', { uuid, key: KEY });
    if (r.status !== 200) throw new Error(`login ${uuid}: ${r.status} ${JSON.stringify(r.body)}`);
    progress('logged in', ++done, uuids.length);
    return { uuid, token: r.body.token };
  });
}

async function build(n: number): Promise<void> {
  mkdirSync(CACHE, { recursive: true });
  const work = mkdtempSync(join(CACHE, `building-${n}-`));
  const base = largestBelow(n);
  const from = base?.n ?? 0;
  if (base) cpSync(join(base.dir, 'data'), join(work, 'data'), { recursive: true });
  process.stderr.write(`fan-out fixture: ${n} agents (${from} copied, ${n - from} to register and log in; one scrypt each)\n`);
  const server = await startCommsApi(join(work, 'data'), { COMMS_API_TOKEN_TTL: String(TOKEN_TTL) });
  try {
    const fresh = Array.from({ length: n - from }, (_, i) => agentUuid(from + i));
    let registered = 0;
    await pool(fresh, 4, async (uuid) => {
      const r = await server.admin('POST', '/api/v1/agents', { uuid, key: KEY, name: uuid });
      if (r.status !== 201) throw new Error(`register ${uuid}: ${r.status} ${JSON.stringify(r.body)}`);
      progress('registered', ++registered, fresh.length);
    });
    // the copied agents keep their tokens (the signing keys were copied with the data folder)
    const startedAt = Date.now();
    const kept = base ? readManifest(base.dir)! : { agents: [], tokensExpireAt: Infinity };
    const agents = [...kept.agents, ...(await loginAll(server, fresh))];
    const manifest: Manifest = { n, tokensExpireAt: Math.min(kept.tokensExpireAt, startedAt + TOKEN_TTL * 1000), agents };
    writeFileSync(join(work, 'manifest.json'), JSON.stringify(manifest));
  } finally {
    await server.stop();
  }
  rmSync(fixtureDir(n), { recursive: true, force: true });
  renameSync(work, fixtureDir(n));
}

/** Renews the tokens of a fixture (its agents stay registered; one scrypt per agent again). */
async function renewTokens(n: number): Promise<void> {
  process.stderr.write(`fan-out fixture: renewing the tokens of ${n} agents\n`);
  const dir = fixtureDir(n);
  const server = await startCommsApi(join(dir, 'data'), { COMMS_API_TOKEN_TTL: String(TOKEN_TTL) });
  try {
    const startedAt = Date.now();
    const agents = await loginAll(server, Array.from({ length: n }, (_, i) => agentUuid(i)));
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ n, tokensExpireAt: startedAt + TOKEN_TTL * 1000, agents }));
  } finally {
    await server.stop();
  }
}

/** A fresh copy of the N-agent fixture (built or renewed first when needed); remove `dataDir` after use. */
export async function agentsFixture(n: number): Promise<{ dataDir: string; agents: BenchAgent[] }> {
  let manifest = readManifest(fixtureDir(n));
  if (!manifest) {
    await build(n);
  } else if (manifest.tokensExpireAt - Date.now() < MIN_TOKEN_LIFE_MS) {
    await renewTokens(n);
  }
  manifest = readManifest(fixtureDir(n))!;
  const copy = mkdtempSync(join(tmpdir(), `bench-fanout-${n}-`));
  cpSync(join(fixtureDir(n), 'data'), join(copy, 'data'), { recursive: true });
  return { dataDir: join(copy, 'data'), agents: manifest.agents };
}

/** Builds the fixtures up front: `node --import tsx bench/fanout/fixture.ts 1000 10000`. */
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const arg of process.argv.slice(2)) {
    const { dataDir } = await agentsFixture(Number(arg));
    rmSync(join(dataDir, '..'), { recursive: true, force: true });
  }
}
