/**
 * Cluster commands. (1) A command issued on node A (`POST /commands` over HTTP, an operator's
 * token) → its `event: command` frame on the stream an agent holds open on node B: milliseconds
 * from sending the request to the frame, median and max over the repeats. (2) The durable
 * `POST /commands` of cluster mode (answered once the commands index holds the command) against
 * one node without an indexer (answered once journaled): request → answer, median and max, and the
 * extra median latency (one warm-up request first, not counted). Both nodes share one real OpenSearch node (the run's `OPENSEARCH_URL`, or
 * one started here).
 *
 * Run: node --import tsx bench/cluster.bench.ts [--repeats 10]
 */
import { parseArgs } from 'node:util';
import { startCluster } from '../test/support/cluster.js';
import { adminCall, call } from '../test/support/client.js';
import { AGENT_KEY, spawnServer, tempDir } from '../test/support/server.js';
import { report, type Row } from './support.js';

const opts = parseArgs({ options: { repeats: { type: 'string', default: '10' } } }).values;
const REPEATS = Number(opts.repeats);
const PASSWORD = 'a long operator password';

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function eventuallyOk<T>(probe: () => Promise<T>, ok: (v: T) => boolean, what: string): Promise<T> {
  const until = Date.now() + 60_000;
  for (;;) {
    const v = await probe();
    if (ok(v)) return v;
    if (Date.now() > until) throw new Error(`gave up waiting for ${what}`);
    await sleep(100);
  }
}

/** POST /commands `REPEATS` times against `api` with `token`; the request → answer times. */
async function issueTimes(api: string, token: string, agent: string, onAnswer?: (id: string, sentAt: number) => Promise<void>): Promise<number[]> {
  const times: number[] = [];
  // one warm-up request, not counted (first token check, cold code paths)
  const warm = await call('POST', `${api}/commands`, { token, json: { action: { name: 'restart', args: {} }, target: { type: 'agent', id: agent } } });
  if (warm.status !== 201) throw new Error(`POST /commands: ${warm.status} ${warm.text}`);
  if (onAnswer) await onAnswer(warm.body.id, performance.now());
  for (let i = 0; i < REPEATS; i++) {
    const sent = performance.now();
    const r = await call('POST', `${api}/commands`, { token, json: { action: { name: 'restart', args: {} }, target: { type: 'agent', id: agent } } });
    if (r.status !== 201) throw new Error(`POST /commands: ${r.status} ${r.text}`);
    times.push(performance.now() - sent);
    if (onAnswer) await onAnswer(r.body.id, sent);
    await sleep(300);
  }
  return times;
}

async function oneNode(): Promise<number[]> {
  const dir = tempDir('comms-api-bench-one-');
  const server = await spawnServer(dir);
  try {
    const agent = 'bench-one';
    await adminCall(`${dir}/admin.sock`, 'POST', '/agents', { uuid: agent, key: AGENT_KEY });
    await adminCall(`${dir}/admin.sock`, 'POST', '/users', { name: 'olga', role: 'operator', password: PASSWORD });
    const token = (await call('POST', `${server.api}/login`, { json: { username: 'olga', password: PASSWORD } })).body.token as string;
    return await issueTimes(server.api, token, agent);
  } finally {
    await server.kill('SIGTERM');
  }
}

async function cluster(): Promise<{ post: number[]; delivered: number[] }> {
  const c = await startCluster({ nodes: 2, name: 'bench-cluster' });
  try {
    const agent = `bench-${c.runId}`;
    await c.admin(0, 'POST', '/agents', { uuid: agent, key: AGENT_KEY });
    await eventuallyOk(() => c.osDoc('comms-agents', agent), (d) => d !== undefined, 'the agent in the index');
    await c.admin(0, 'POST', '/users', { name: 'olga', role: 'operator', password: PASSWORD });
    const operator = await c.login(0, { username: 'olga', password: PASSWORD });
    const agentToken = await eventuallyOk(() => call('POST', `${c.nodes[1]!.api}/login`, { json: { uuid: agent, key: AGENT_KEY } }), (r) => r.status === 200, 'the agent logging in on B');
    const stream = await c.sse(1, '/commands', { token: agentToken.body.token });
    const delivered: number[] = [];
    const post = await issueTimes(c.nodes[0]!.api, operator, agent, async (id, sent) => {
      await stream.next((e) => e.event === 'command' && JSON.parse(e.data).id === id, 30_000);
      delivered.push(performance.now() - sent);
    });
    return { post, delivered };
  } finally {
    await c.stop();
  }
}

const single = await oneNode();
const { post, delivered } = await cluster();
const rows: Row[] = [
  { bench: 'cluster', case: `issued on A → frame on B's stream (${REPEATS}×)`, metric: 'median ms', value: median(delivered) },
  { bench: 'cluster', case: `issued on A → frame on B's stream (${REPEATS}×)`, metric: 'max ms', value: Math.max(...delivered) },
  { bench: 'cluster', case: 'POST /commands, cluster mode (durability indexed)', metric: 'median ms', value: median(post), baseline: median(single), ratio: median(post) / median(single) },
  { bench: 'cluster', case: 'POST /commands, cluster mode (durability indexed)', metric: 'max ms', value: Math.max(...post), baseline: Math.max(...single) },
  { bench: 'cluster', case: 'POST /commands, extra median latency vs one node', metric: 'ms', value: median(post) - median(single) },
];
report('cluster', rows);
process.exit(0);
