// Cluster mode, three nodes sharing one OpenSearch (OPENSEARCH_URL, or a private node): how long
// a change acknowledged by node A takes to act on node B, over N repeats (argv[2], default 10):
//   - a group configuration PUT on A → `event: config` on an agent's stream on B;
//   - a set-group command issued on A → `event: config` on the agent's stream on B;
//   - a user deleted on A → B refusing that user's token (polled every 20 ms);
//   - a user disabled on A → B refusing that user's token.
// Times run from A's answer; the PUT / DELETE answer times themselves are reported too.
import { startCluster } from '../test/support/cluster.js';
import { AGENT_KEY } from '../test/support/server.js';
import { report, type Row } from './support.js';

const RUNS = Number(process.argv[2] ?? 10);
const PASSWORD = 'correct horse battery';
const POLL_MS = 20;

const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)]!, max: s[s.length - 1]! };
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const cluster = await startCluster({ name: 'bench-propagation' });
try {
  const op = `op-${cluster.runId}`;
  await cluster.admin(0, 'POST', '/users', { name: op, role: 'operator', password: PASSWORD });
  const token = await cluster.login(0, { username: op, password: PASSWORD });
  const group = `bench-${cluster.runId}`;
  const other = `${group}-other`;
  const agent = `agent-${cluster.runId}`;
  await cluster.admin(1, 'POST', '/agents', { uuid: agent, key: AGENT_KEY, groups: [group] });
  const agentToken = await cluster.login(1, { uuid: agent, key: AGENT_KEY });
  const stream = await cluster.sse(1, '/commands', { token: agentToken });
  const rows: Row[] = [];
  const row = (name: string, xs: number[]) => {
    const { median, max } = stats(xs);
    rows.push({ bench: 'clusterPropagation', case: name, metric: 'ms (median)', value: median });
    rows.push({ bench: 'clusterPropagation', case: name, metric: 'ms (max)', value: max });
  };

  // 1. configuration PUT on A → event: config on B
  let etag = (await cluster.call(0, 'GET', `/groups/${group}/configuration`, { token })).headers.get('etag')!;
  const putMs: number[] = [];
  const configMs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    const put = await cluster.call(0, 'PUT', `/groups/${group}/configuration`, { token, json: { run: i }, headers: { 'if-match': etag } });
    const answered = performance.now();
    if (put.status !== 200) throw new Error(`PUT ${put.status} ${put.text}`);
    etag = put.headers.get('etag')!;
    await stream.next((e) => e.event === 'config' && JSON.parse(e.data).etag === etag, 30_000);
    putMs.push(answered - started);
    configMs.push(performance.now() - answered);
    await sleep(200);
  }
  row('config PUT on A: answer', putMs);
  row('config PUT on A → event: config on B', configMs);

  // 2. set-group on A → event: config on B
  await cluster.call(0, 'PUT', `/groups/${other}/configuration`, {
    token,
    json: { other: true },
    headers: { 'if-match': (await cluster.call(0, 'GET', `/groups/${other}/configuration`, { token })).headers.get('etag')! },
  });
  const setGroupMs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const to = i % 2 === 0 ? other : group;
    const wanted = (await cluster.call(0, 'GET', `/groups/${to}/configuration`, { token })).body;
    const issued = await cluster.call(0, 'POST', '/commands', { token, json: { action: { name: 'set-group', args: { groups: [to] } }, target: { type: 'agent', id: agent } } });
    const answered = performance.now();
    if (issued.status !== 201) throw new Error(`set-group ${issued.status} ${issued.text}`);
    await stream.next((e) => e.event === 'config' && JSON.stringify(JSON.parse(e.data).configuration) === JSON.stringify(wanted), 30_000);
    setGroupMs.push(performance.now() - answered);
    await sleep(1500); // A's own change must be mirrored before the next one (the agents index is followed every second)
  }
  row('set-group issued on A → event: config on B', setGroupMs);

  // 3. and 4. a user deleted / disabled on A → B refusing its token
  for (const change of ['delete', 'disable'] as const) {
    const answerMs: number[] = [];
    const refusedMs: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const name = `u${i}-${change}-${cluster.runId}`;
      await cluster.call(0, 'POST', '/users', { token, json: { name, role: 'auditor', password: PASSWORD } });
      const userToken = await cluster.login(1, { username: name, password: PASSWORD });
      const ok = await cluster.call(1, 'GET', '/journal/stats', { token: userToken });
      if (ok.status !== 200) throw new Error(`the user's token on B: ${ok.status}`);
      const started = performance.now();
      const r = change === 'delete' ? await cluster.call(0, 'DELETE', `/users/${name}`, { token }) : await cluster.call(0, 'POST', `/users/${name}/disable`, { token });
      const answered = performance.now();
      if (r.status >= 300) throw new Error(`${change} ${r.status} ${r.text}`);
      while ((await cluster.call(1, 'GET', '/journal/stats', { token: userToken })).status !== 401) {
        if (performance.now() - answered > 30_000) throw new Error('B never refused the token');
        await sleep(POLL_MS);
      }
      answerMs.push(answered - started);
      refusedMs.push(performance.now() - answered);
    }
    row(`user ${change} on A: answer`, answerMs);
    row(`user ${change} on A → token refused on B`, refusedMs);
  }
  report('clusterPropagation', rows);
} finally {
  await cluster.stop();
}
