/**
 * Drains. (1) Engine: 1M stateless events already in the journal (ingested through the API with
 * the engine absent), then the server is started with COMMS_API_ENGINE_SOCKET pointing at a
 * reference engine (`--record count`): events/s until the engine accepted them all, its
 * `data_hash` checked, server CPU seconds while draining. Baseline: the same engine bodies sent
 * straight to a second reference engine with the server's engine client, before and after.
 * (2) Indexer: 200k stateful items in the journal, then the server is started with the real
 * OpenSearch node: items/s until the `sink:indexer` checkpoint passed the last batch. Baseline:
 * `_bulk` of the same documents (same bulk size and concurrency) straight to OpenSearch; the two
 * alternate twice, each after OpenSearch flushed and finished merging.
 *
 * Run: node --import tsx bench/drain.bench.ts [--events 1000000] [--items 200000] [--only engine|indexer]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startEngine } from '../test/support/engine/engine.js';
import { startOpenSearch } from '../test/support/opensearch/node.js';
import { sleep, startCommsApi } from './lib/commsApi.js';
import { timeEngineDrain } from './lib/engineDrain.js';
import { bulkBodies, directBulk, loadStateful, type StatefulLoad } from './lib/statefulLoad.js';
import { directSend, loadStateless } from './lib/statelessLoad.js';
import { cpuSeconds, report, type Row } from './support.js';

const opts = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    items: { type: 'string', default: '200000' },
    only: { type: 'string' },
  },
}).values;
const EVENTS = Number(opts.events);
const ITEMS = Number(opts.items);

async function engineDrain(dir: string): Promise<Row[]> {
  const dataDir = join(dir, 'engine-data');
  process.stderr.write(`drain: ingesting ${EVENTS} stateless events (engine absent)\n`);
  const load = await loadStateless(dataDir, EVENTS);

  const direct = async () => {
    const e = await startEngine({ record: 'count' });
    try {
      const r = await directSend(e.socket, load);
      const s = await e.stats();
      if (s.data_hash !== load.expectedHash || s.accepted_events !== EVENTS) throw new Error(`baseline engine got ${s.accepted_events} events, hash ${s.data_hash}`);
      return r;
    } finally {
      await e.stop();
    }
  };
  process.stderr.write('drain: direct sender (baseline)\n');
  const before = await direct();
  process.stderr.write('drain: comms-api engine pipeline\n');
  const engine = await startEngine({ record: 'count' });
  let ours;
  try {
    const server = await startCommsApi(dataDir, { COMMS_API_ENGINE_SOCKET: engine.socket });
    try {
      ours = await timeEngineDrain(engine, EVENTS, server.pid);
    } finally {
      await server.stop();
    }
  } finally {
    await engine.stop();
  }
  if (ours.dataHash !== load.expectedHash) throw new Error(`engine data_hash ${ours.dataHash} ≠ expected ${load.expectedHash}`);
  process.stderr.write('drain: direct sender again (baseline)\n');
  const after = await direct();
  // baseline = both direct runs together (events over their summed time), each run also shown
  const base = (2 * EVENTS) / (before.seconds + after.seconds);
  const baseCpu = (before.cpuSeconds + after.cpuSeconds) / 2;
  const c = `engine, ${EVENTS.toLocaleString('en')} events`;
  return [
    { bench: 'drain', case: c, metric: 'events/s', value: ours.eventsPerSecond, baseline: base, ratio: ours.eventsPerSecond / base, target: '≥ 100,000', met: ours.eventsPerSecond >= 100_000 },
    { bench: 'drain', case: c, metric: 'sender CPU s', value: ours.cpuSeconds, baseline: baseCpu, ratio: ours.cpuSeconds / baseCpu },
    { bench: 'drain', case: c, metric: 'seconds', value: ours.seconds, baseline: (before.seconds + after.seconds) / 2 },
    { bench: 'drain', case: c, metric: 'baseline runs events/s (before, after)', value: before.eventsPerSecond, baseline: after.eventsPerSecond },
    { bench: 'drain', case: c, metric: 'data_hash matches', value: 1 },
    { bench: 'drain', case: c, metric: 'ingest events/s (setup)', value: EVENTS / load.ingestSeconds },
  ];
}

/** Polls the journal stats until `sink:indexer` passed `load.lastSeq`; times from the first progress seen. */
async function timeIndexerDrain(admin: (m: string, p: string) => Promise<{ body: unknown }>, pid: number, load: StatefulLoad) {
  const batches = load.lastSeq - load.firstSeq + 1;
  const perBatch = load.items / batches;
  const done = (cp: number) => Math.max(0, Math.min(batches, cp - load.firstSeq + 1)) * perBatch;
  let first: { t: number; items: number; cpu: number } | null = null;
  const deadline = Date.now() + 240_000;
  for (;;) {
    const stats = (await admin('GET', '/api/v1/journal/stats')).body as { checkpoints: Array<{ name: string; seq: number }> };
    const cp = stats.checkpoints.find((c) => c.name === 'sink:indexer')?.seq ?? 0;
    const t = performance.now();
    if (!first && done(cp) > 0) first = { t, items: done(cp), cpu: cpuSeconds(pid) };
    if (cp >= load.lastSeq) {
      const seconds = Math.max((t - first!.t) / 1000, 0.001);
      return { itemsPerSecond: (load.items - first!.items) / seconds, seconds, cpuSeconds: cpuSeconds(pid) - first!.cpu };
    }
    if (Date.now() > deadline) throw new Error(`indexer checkpoint at ${cp}, waiting for ${load.lastSeq}`);
    await sleep(50);
  }
}

/**
 * A server started once on an empty folder puts the index templates (so the baseline's
 * `wazuh-states-*` indices get the same mapping as the server's), then a small direct bulk warms
 * the node's JIT before anything is measured.
 */
async function warmUp(dataDir: string, osUrl: string): Promise<void> {
  const server = await startCommsApi(dataDir, { COMMS_API_INDEXER_URL: osUrl });
  try {
    const deadline = Date.now() + 60_000;
    while ((await fetch(`${osUrl}/_index_template/comms-wazuh-states`)).status !== 200) {
      if (Date.now() > deadline) throw new Error('the server did not put its index templates');
      await sleep(200);
    }
  } finally {
    await server.stop();
  }
  await directBulk(osUrl, bulkBodies(Math.min(ITEMS, 20_000), 'wazuh-states-warm-up'), Math.min(ITEMS, 20_000));
}

/** Flushes every index and waits (≤ 20 s) until no merge runs, so a run does not pay for the previous one. */
async function settle(osUrl: string): Promise<void> {
  await fetch(`${osUrl}/_flush`, { method: 'POST' });
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const stats = (await (await fetch(`${osUrl}/_stats/merge`)).json()) as { _all?: { total?: { merges?: { current?: number } } } };
    const running = stats._all?.total?.merges?.current;
    if (running === undefined) throw new Error(`unexpected _stats/merge answer: ${JSON.stringify(stats).slice(0, 200)}`);
    if (running === 0) return;
    await sleep(200);
  }
}

async function ourDrain(dataDir: string, osUrl: string, load: StatefulLoad, module: string) {
  await settle(osUrl);
  process.stderr.write(`drain: comms-api indexer pipeline (${module})\n`);
  const server = await startCommsApi(dataDir, { COMMS_API_INDEXER_URL: osUrl });
  let timing;
  try {
    timing = await timeIndexerDrain(server.admin, server.pid, load);
  } finally {
    await server.stop();
  }
  await fetch(`${osUrl}/wazuh-states-${module}/_refresh`, { method: 'POST' });
  const { count } = (await (await fetch(`${osUrl}/wazuh-states-${module}/_count`)).json()) as { count: number };
  if (count !== ITEMS) throw new Error(`OpenSearch holds ${count} of ${ITEMS} items of ${module}`);
  return timing;
}

async function direct(osUrl: string, index: string) {
  const bodies = bulkBodies(ITEMS, index);
  await settle(osUrl);
  process.stderr.write(`drain: direct _bulk into ${index} (baseline)\n`);
  return directBulk(osUrl, bodies, ITEMS);
}

/**
 * Two server drains (two data folders, modules bench-a and bench-b, so two fresh indices)
 * alternating with two direct runs into fresh indices; OpenSearch's speed moves a lot between
 * runs, so each side is the sum of its two runs.
 */
async function indexerDrain(dir: string): Promise<Row[]> {
  process.stderr.write('drain: starting OpenSearch\n');
  const os = await startOpenSearch();
  try {
    process.stderr.write(`drain: ingesting 2 × ${ITEMS} stateful items (indexer off)\n`);
    const loadA = await loadStateful(join(dir, 'indexer-a'), ITEMS, 'bench-a');
    const loadB = await loadStateful(join(dir, 'indexer-b'), ITEMS, 'bench-b');
    await warmUp(join(dir, 'warm-up-data'), os.url);
    const b1 = await direct(os.url, 'wazuh-states-direct-1');
    const o1 = await ourDrain(join(dir, 'indexer-a'), os.url, loadA, 'bench-a');
    const b2 = await direct(os.url, 'wazuh-states-direct-2');
    const o2 = await ourDrain(join(dir, 'indexer-b'), os.url, loadB, 'bench-b');
    const base = (2 * ITEMS) / (b1.seconds + b2.seconds);
    const ours = (2 * ITEMS) / (o1.seconds + o2.seconds);
    const c = `indexer, ${ITEMS.toLocaleString('en')} items`;
    return [
      { bench: 'drain', case: c, metric: 'items/s', value: ours, baseline: base, ratio: ours / base, target: '≥ 90% of baseline', met: ours / base >= 0.9 },
      { bench: 'drain', case: c, metric: 'sender CPU s', value: (o1.cpuSeconds + o2.cpuSeconds) / 2, baseline: (b1.cpuSeconds + b2.cpuSeconds) / 2, ratio: (o1.cpuSeconds + o2.cpuSeconds) / (b1.cpuSeconds + b2.cpuSeconds) },
      { bench: 'drain', case: c, metric: 'items/s run 1 (direct, then comms-api)', value: o1.itemsPerSecond, baseline: b1.itemsPerSecond, ratio: o1.itemsPerSecond / b1.itemsPerSecond },
      { bench: 'drain', case: c, metric: 'items/s run 2 (direct, then comms-api)', value: o2.itemsPerSecond, baseline: b2.itemsPerSecond, ratio: o2.itemsPerSecond / b2.itemsPerSecond },
      { bench: 'drain', case: c, metric: 'ingest items/s (setup)', value: ITEMS / loadA.ingestSeconds },
    ];
  } finally {
    await os.stop();
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-drain-'));
  const rows: Row[] = [];
  try {
    if (opts.only !== 'indexer') rows.push(...(await engineDrain(dir)));
    if (opts.only !== 'engine') rows.push(...(await indexerDrain(dir)));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  report('drain', rows);
}

await main();
