import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { call, statelessBatch } from '../support/client.js';
import { openSse } from '../support/sse.js';
import { ROOT } from '../support/server.js';
import { startWorld, type World } from '../transport/http/management.support.js';

// Debian's `prometheus` package (.ci/run installs it): promtool checks what Prometheus would refuse or warn about.
const PROMTOOL = process.env.PROMTOOL ?? 'promtool';
const promtool = (args: string[], input?: string) => {
  const r = spawnSync(PROMTOOL, args, { cwd: ROOT, input, encoding: 'utf8', timeout: 120_000 });
  if (r.error) throw new Error(`${PROMTOOL} could not run (apt-get install prometheus): ${r.error.message}`);
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
};
const RULES = join(ROOT, 'ops/prometheus/comms-api.rules.yml');
const RULE_TESTS = join(ROOT, 'ops/prometheus/comms-api.rules.test.yml');
const DASHBOARD = join(ROOT, 'ops/grafana/comms-api.json');

/** Metric family names (without _bucket/_sum/_count) a scrape exposes. */
const families = (text: string) => new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!));
/** comms_api_* names used in PromQL expressions, with histogram suffixes stripped. */
const namesIn = (expr: string) => [...expr.matchAll(/\bcomms_api_[a-z0-9_]+/g)].map((m) => m[0].replace(/_(bucket|sum|count)$/, ''));

const Scrape = suite<{ w: World; text: string }>('the exposition of a running server');
Scrape.before(async (ctx) => {
  ctx.w = await startWorld({ 'agent-1': ['g'], 'agent-2': [] }, { COMMS_API_METRICS_PORT: '0' });
  const { w } = ctx;
  // something in every family: events (engine backlog), a failed login, a stream and a long-poll
  await call('POST', `${w.server.api}/events/stateless`, { token: w.agents['agent-1'], body: statelessBatch(3), type: 'application/x-ndjson' });
  await call('POST', `${w.server.api}/login`, { json: { username: 'olga', password: 'wrong password' } });
  const sse = await openSse(`${w.server.api}/commands`, { token: w.agents['agent-1'] });
  const poll = call('GET', `${w.server.api}/commands?wait=2`, { token: w.agents['agent-2'] });
  await new Promise((r) => setTimeout(r, 300));
  ctx.text = (await call('GET', `${w.server.metricsUrl}/metrics`)).text;
  sse.close();
  await poll;
});
Scrape.after((ctx) => ctx.w.server.stop());

Scrape('passes `promtool check metrics` (names, types, units, _total only on counters)', ({ text }) => {
  assert.ok(text.includes('comms_api_pipeline_lag_seconds'), 'a real scrape');
  const r = promtool(['check', 'metrics'], text);
  assert.is(r.code, 0, r.out);
  assert.is(r.out.trim(), '', r.out);
});

Scrape('every metric the alert rules and the dashboard use is exported', ({ text }) => {
  const exported = families(text);
  const rules = readFileSync(RULES, 'utf8');
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as { panels: Array<{ targets?: Array<{ expr: string }> }> };
  const exprs = [rules, ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr))];
  for (const name of exprs.flatMap(namesIn)) assert.ok(exported.has(name), `${name} is not exported`);
});

Scrape('the README lists every comms_api_* family the server exports', ({ text }) => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const ours = [...families(text)].filter((n) => !/^comms_api_(nodejs|process)_/.test(n));
  for (const name of ours) assert.ok(readme.includes(`\`${name}\``), `README does not list ${name}`);
  const listed = [...readme.matchAll(/`(comms_api_[a-z0-9_]+)`/g)].map((m) => m[1]!).filter((n) => !/^comms_api_(nodejs|process)_/.test(n));
  for (const name of listed) assert.ok(families(text).has(name) || families(text).has(name.replace(/_(bucket|sum|count)$/, '')), `README lists ${name}, which is not exported`);
});

const Rules = suite('alert rules and dashboard');
Rules('pass `promtool check rules`', () => {
  const r = promtool(['check', 'rules', RULES]);
  assert.is(r.code, 0, r.out);
  assert.match(r.out, /SUCCESS: \d+ rules found/);
});
Rules('pass their unit tests (`promtool test rules`)', () => {
  const r = promtool(['test', 'rules', RULE_TESTS]);
  assert.is(r.code, 0, r.out);
  assert.match(r.out, /SUCCESS/);
});
Rules('the dashboard is an importable Grafana dashboard with a Prometheus data-source input', () => {
  const d = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as {
    __inputs: Array<{ name: string; type: string; pluginId: string }>;
    uid: string;
    title: string;
    schemaVersion: number;
    panels: Array<{ id: number; title: string; type: string; gridPos: object; datasource?: { uid: string }; targets?: Array<{ expr: string; refId: string }> }>;
  };
  assert.equal(d.__inputs.map((i) => [i.type, i.pluginId]), [['datasource', 'prometheus']]);
  assert.ok(d.uid && d.title && d.schemaVersion >= 36);
  const ids = d.panels.map((p) => p.id);
  assert.is(new Set(ids).size, ids.length, 'panel ids are unique');
  for (const p of d.panels) {
    assert.ok(p.gridPos, `${p.title}: gridPos`);
    if (p.type === 'row') continue;
    assert.ok(p.targets?.length, `${p.title}: a query`);
    assert.is(p.datasource?.uid, '${DS_PROMETHEUS}', `${p.title}: the data source input`);
  }
  for (const section of ['Pipelines', 'Ingest', 'Commands', 'Agents', 'Journal']) {
    assert.ok(d.panels.some((p) => p.type === 'row' && p.title === section), `a ${section} row`);
  }
});

Scrape.run();
Rules.run();
