import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { JournalRow } from '../../src/journal/readEntries.js';
import { engineBody, toEngineRow } from '../../src/pipelines/engineFormat.js';
import { planEngineBatches } from '../../src/pipelines/engineSink.js';
import { planBulks } from '../../src/pipelines/indexerSink.js';

const row = (seq: number, agent: string, body: string, type = 'StatelessEventsReceived', data?: unknown): JournalRow => ({
  seq,
  type,
  stream: agent,
  time: 0,
  actor: `agent:${agent}`,
  data: JSON.stringify(data ?? { agent, events: (body.split('\n').filter(Boolean).length - 1) / 2 }),
  body: Buffer.from(body),
  hash: Buffer.alloc(32),
});
const EVENT = '{"module":"m","collector":"c"}\n{"x":  1}\n';

const format = suite('engine format');

format('only agent.id changes in the agent line; event lines pass byte for byte', () => {
  const r = toEngineRow(row(1, 'real-id', `{"agent":{"id":"fake","name":"n"},"extra":1}\n${EVENT}`));
  assert.is(r.agentLine.toString(), '{"agent":{"id":"real-id","name":"n"},"extra":1}\n');
  assert.is(r.eventLines.toString(), EVENT);
});

format('a body without a final newline gets one, so rows can follow each other', () => {
  const r = toEngineRow(row(1, 'a', `{"agent":{}}\n${EVENT.slice(0, -1)}`));
  assert.is(r.eventLines.toString(), EVENT);
  assert.is(Buffer.concat(engineBody([r, r])).toString(), `{"agent":{"id":"a"}}\n${EVENT}${EVENT}`);
});

const plan = suite('engine batches');

plan('consecutive rows of one agent share a request; another agent starts a new one', () => {
  const rows = [row(1, 'a', `{"agent":{}}\n${EVENT}`), row(2, 'a', `{"agent":{}}\n${EVENT}`), row(3, 'b', `{"agent":{}}\n${EVENT}`), row(4, 'a', `{"agent":{}}\n${EVENT}`)];
  const units = planEngineBatches(rows, { events: 100, bytes: 1 << 20 });
  assert.equal(units.map((u) => [u.firstSeq, u.lastSeq, u.events]), [[1, 2, 2], [3, 3, 1], [4, 4, 1]]);
});

plan('the live pipeline groups a page by agent: each agent in journal order, units in order of their first row', () => {
  const rows = [1, 2, 3, 4, 5, 6].map((s) => row(s, s % 2 ? 'a' : 'b', `{"agent":{}}\n${EVENT}`));
  const units = planEngineBatches(rows, { events: 2, bytes: 1 << 20 }, { byAgent: true });
  assert.equal(units.map((u) => [u.rows[0]!.agent, u.rows.map((r) => r.seq)]), [['a', [1, 3]], ['b', [2, 4]], ['a', [5]], ['b', [6]]]);
});

plan('requests are bounded by events and bytes, and a large row still goes alone', () => {
  const rows = [1, 2, 3, 4, 5].map((s) => row(s, 'a', `{"agent":{}}\n${EVENT}${EVENT}`));
  assert.equal(planEngineBatches(rows, { events: 4, bytes: 1 << 20 }).map((u) => u.events), [4, 4, 2]);
  assert.equal(planEngineBatches(rows, { events: 100, bytes: 10 }).map((u) => u.events), [2, 2, 2, 2, 2]);
});

plan('a row that cannot be read becomes its own unit, to be dead-lettered, and the rest goes on', () => {
  const rows = [row(1, 'a', `{"agent":{}}\n${EVENT}`), row(2, 'a', `not json\n${EVENT}`), row(3, 'a', `{"agent":{}}\n${EVENT}`)];
  const units = planEngineBatches(rows, { events: 100, bytes: 1 << 20 });
  assert.equal(units.map((u) => [u.firstSeq, u.lastSeq, Boolean(u.unreadable)]), [[1, 1, false], [2, 2, true], [3, 3, false]]);
});

const bulks = suite('indexer bulks');
const statefulRow = (seq: number, n: number) =>
  row(seq, 'a', '', 'StatefulEventsReceived', {
    agent: 'a',
    batch: `b${seq}`,
    items: Array.from({ length: n }, (_, i) => ({ id: `i${i}`, module: 'Pkg', operation: i === 0 ? 'delete' : 'create', doc: { i } })),
  });

bulks('documents get ids from the journal, indices per module and the sending agent as agent.id', () => {
  const [unit] = planBulks([statefulRow(7, 2)], { actions: 100, bytes: 1 << 20 }, () => 1);
  assert.equal(unit!.actions.map((a) => a.lines), [
    ['{"delete":{"_index":"wazuh-states-pkg","_id":"i0"}}'],
    ['{"index":{"_index":"wazuh-states-pkg","_id":"i1"}}', '{"i":1,"agent":{"id":"a"}}'],
  ]);
});

bulks('a row split across two bulks does not let the first one move the checkpoint onto it', () => {
  let uid = 0;
  const units = planBulks([statefulRow(1, 2), statefulRow(2, 3)], { actions: 3, bytes: 1 << 20 }, () => ++uid);
  assert.equal(units.map((u) => [u.actions.length, u.lastSeq]), [[3, 1], [2, 2]]);
});

format.run();
plan.run();
bulks.run();
