import { firstValueFrom, timer } from 'rxjs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Entry } from '../../src/journal/entries.js';
import { openJournal, type Journal } from '../../src/journal/journal.js';
import { createProjections } from '../../src/projections/index.js';
import { createPullPipeline, type Delivery, type Sink, type Unit } from '../../src/pipelines/pullPipeline.js';
import { tempDir } from '../support/server.js';
import { rmSync } from 'node:fs';
import { eventually } from '../support/eventually.js';

interface TestUnit extends Unit {
  seqs: number[];
}

interface Ctx {
  dir: string;
  journal: Journal;
}

const event = (agent: string, i: number): Entry => ({
  type: 'StatelessEventsReceived',
  stream: agent,
  actor: `agent:${agent}`,
  data: { agent, events: 1 },
  body: Buffer.from(`{"agent":{}}\n{"module":"m","collector":"c"}\n{"i":${i}}\n`),
});
const other = (i: number): Entry => ({ type: 'UserCreated', stream: `user:u${i}`, actor: 'test', data: { name: `u${i}`, role: 'auditor', passwordHash: 'x' } });

/** A sink written for the test: it records what it got and answers what the test scripted. */
function scriptedSink(script: (unit: TestUnit, attempt: number) => Delivery<TestUnit>) {
  const delivered: number[] = [];
  const attempts = new Map<number, number>();
  const sink: Sink<TestUnit> = {
    name: 'test',
    types: ['StatelessEventsReceived'],
    plan: (rows) => rows.map((r) => ({ firstSeq: r.seq, lastSeq: r.seq, events: 1, seqs: [r.seq] })),
    async deliver(unit) {
      const n = (attempts.get(unit.firstSeq) ?? 0) + 1;
      attempts.set(unit.firstSeq, n);
      await firstValueFrom(timer(1));
      const d = script(unit, n);
      if (d.ok) delivered.push(...unit.seqs);
      return d;
    },
  };
  return { sink, delivered, attempts };
}

const pipeline = suite<Ctx>('pull pipeline');
pipeline.before.each((ctx) => {
  ctx.dir = tempDir();
  ctx.journal = openJournal({ projections: createProjections, dataDir: ctx.dir, quotaBytes: 1 << 30 });
});
pipeline.after.each(async (ctx) => {
  await ctx.journal.close();
  rmSync(ctx.dir, { recursive: true, force: true });
});

const append = (j: Journal, entries: Entry[]) => j.commit.run((tx) => entries.map((e) => tx.append(e).seq));
const checkpoint = (j: Journal) => j.checkpoints.get('sink:test');

pipeline('delivers in journal order, passes over other entries and checkpoints after the acknowledgement', async ({ journal }) => {
  const seqs = await append(journal, [event('a', 1), other(1), event('a', 2), other(2), event('b', 3)]);
  const { sink, delivered } = scriptedSink(() => ({ ok: true }));
  const p = createPullPipeline({ db: journal.db, onCommitted: journal.onCommitted, sink, backoff: { baseMs: 5, maxMs: 20 } });
  const sub = p.run$.subscribe();
  await eventually(async () => p.status(), (s) => s.state === 'caught-up' && s.lag === 0);
  assert.equal(delivered, [seqs[0], seqs[2], seqs[4]]);
  assert.is(checkpoint(journal), seqs[4]);
  // a commit wakes it up
  const [late] = await append(journal, [event('c', 4)]);
  await eventually(async () => delivered.length, (n) => n === 4);
  assert.is(delivered[3], late);
  await eventually(async () => checkpoint(journal), (cp) => cp === late);
  assert.is(p.status().delivered_events, 4);
  sub.unsubscribe();
});

pipeline('entries it only passes over move the checkpoint in memory at once, on disk within skipStoreMs and when it stops', async ({ journal }) => {
  const { sink, delivered } = scriptedSink(() => ({ ok: true }));
  const p = createPullPipeline({ db: journal.db, onCommitted: journal.onCommitted, sink, skipStoreMs: 60_000 });
  const sub = p.run$.subscribe();
  const seqs = await append(journal, [other(1), other(2)]);
  await eventually(async () => p.status(), (s) => s.checkpoint === seqs[1] && s.lag === 0);
  assert.is(checkpoint(journal), 0, 'not stored yet: a write and an fsync per passed-over commit is what this saves');
  sub.unsubscribe();
  assert.is(checkpoint(journal), seqs[1], 'stored when the pipeline stops');
  assert.equal(delivered, []);

  const again = createPullPipeline({ db: journal.db, onCommitted: journal.onCommitted, sink, skipStoreMs: 20 });
  const sub2 = again.run$.subscribe();
  const [later] = await append(journal, [other(3)]);
  await eventually(async () => checkpoint(journal), (cp) => cp === later);
  sub2.unsubscribe();
});

pipeline('a retryable failure is retried with back-off and the checkpoint waits for it', async ({ journal }) => {
  const seqs = await append(journal, [event('a', 1), event('a', 2)]);
  let failing = true;
  const { sink, delivered, attempts } = scriptedSink((u) =>
    failing && u.firstSeq === seqs[1] ? { ok: false, reason: 'sink is down', rest: u } : { ok: true },
  );
  const p = createPullPipeline({ db: journal.db, onCommitted: journal.onCommitted, sink, backoff: { baseMs: 5, maxMs: 20 }, downAfter: 3 });
  const sub = p.run$.subscribe();
  const down = await eventually(async () => p.status(), (s) => s.state === 'down');
  assert.is(down.last_error, 'sink is down');
  assert.is(checkpoint(journal), seqs[0]);
  assert.is(down.lag, 1);
  failing = false;
  await eventually(async () => p.status(), (s) => s.state === 'caught-up');
  assert.equal(delivered, seqs);
  assert.ok(attempts.get(seqs[1]!)! >= 4);
  assert.is(checkpoint(journal), seqs[1]);
  sub.unsubscribe();
});

pipeline('a poison item is dead-lettered with its reason and the pipeline goes on', async ({ journal }) => {
  const seqs = await append(journal, [event('a', 1), event('a', 2), event('a', 3)]);
  const { sink, delivered } = scriptedSink((u) =>
    u.firstSeq === seqs[1] ? { ok: true, poison: [{ seq: u.firstSeq, item: '{"x":1}', reason: 'refused: bad' }] } : { ok: true },
  );
  const p = createPullPipeline({ db: journal.db, onCommitted: journal.onCommitted, sink });
  const sub = p.run$.subscribe();
  await eventually(async () => p.status(), (s) => s.state === 'caught-up');
  assert.equal(delivered, seqs);
  const rows = journal.db.prepare('SELECT sink, seq, item, reason, resolved FROM dead_letters').all();
  assert.equal(rows, [{ sink: 'test', seq: seqs[1], item: '{"x":1}', reason: 'refused: bad', resolved: 0 }]);
  assert.is(p.status().dead_lettered, 1);
  sub.unsubscribe();
});

pipeline('with several units in flight the checkpoint only passes a contiguous acknowledged prefix', async ({ journal }) => {
  const seqs = await append(journal, [event('a', 1), event('a', 2), event('a', 3)]);
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const sink: Sink<TestUnit> = {
    name: 'test',
    types: ['StatelessEventsReceived'],
    plan: (rows) => rows.map((r) => ({ firstSeq: r.seq, lastSeq: r.seq, events: 1, seqs: [r.seq] })),
    async deliver(u) {
      if (u.firstSeq === seqs[0]) await gate;
      return { ok: true };
    },
  };
  const p = createPullPipeline({ db: journal.db, onCommitted: journal.onCommitted, sink, concurrency: 3 });
  const sub = p.run$.subscribe();
  await eventually(async () => p.status().delivered_batches, (n) => n === 2);
  assert.is(checkpoint(journal), 0, 'the first unit is still in flight');
  release();
  await eventually(async () => checkpoint(journal), (cp) => cp === seqs[2]);
  sub.unsubscribe();
});

pipeline('interleaved units (rows grouped by agent): the checkpoint never passes a row an unacknowledged unit holds', async ({ journal }) => {
  const seqs = await append(journal, [event('a', 1), event('b', 2), event('a', 3), event('b', 4)]);
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const sink: Sink<TestUnit> = {
    name: 'test',
    types: ['StatelessEventsReceived'],
    // unit A holds rows 1 and 3, unit B rows 2 and 4
    plan: (rows) => [0, 1].map((k) => {
      const mine = rows.filter((_, i) => i % 2 === k).map((r) => r.seq);
      return { firstSeq: mine[0]!, lastSeq: mine[mine.length - 1]!, events: mine.length, seqs: mine };
    }),
    async deliver(u) {
      if (u.firstSeq === seqs[1]) await gate;
      return { ok: true };
    },
  };
  const p = createPullPipeline({ db: journal.db, onCommitted: journal.onCommitted, sink, concurrency: 2 });
  const sub = p.run$.subscribe();
  await eventually(async () => p.status().delivered_batches, (n) => n === 1);
  await firstValueFrom(timer(50));
  assert.is(checkpoint(journal), seqs[0], 'A (rows 1 and 3) is acknowledged, B (row 2) is not: only row 1 is passed');
  release();
  await eventually(async () => checkpoint(journal), (cp) => cp === seqs[3]);
  sub.unsubscribe();
});

pipeline('it resumes after its checkpoint when started again', async ({ journal }) => {
  const seqs = await append(journal, [event('a', 1), event('a', 2)]);
  journal.checkpoints.store('sink:test', seqs[0]!);
  const { sink, delivered } = scriptedSink(() => ({ ok: true }));
  const p = createPullPipeline({ db: journal.db, onCommitted: journal.onCommitted, sink });
  const sub = p.run$.subscribe();
  await eventually(async () => p.status(), (s) => s.state === 'caught-up');
  assert.equal(delivered, [seqs[1]]);
  sub.unsubscribe();
});

pipeline('a bug in the sink does not stop the pipeline for good: it starts again from its checkpoint', async ({ journal }) => {
  const seqs = await append(journal, [event('a', 1), event('a', 2)]);
  const { sink, delivered } = scriptedSink(() => ({ ok: true }));
  let planned = 0;
  const plan = sink.plan;
  sink.plan = (rows) => {
    if (++planned === 1) throw new Error('bug');
    return plan(rows);
  };
  const errors: string[] = [];
  const p = createPullPipeline({ db: journal.db, onCommitted: journal.onCommitted, sink, restartMs: 10, onError: (m) => errors.push(m) });
  const sub = p.run$.subscribe();
  await eventually(async () => p.status(), (s) => s.state === 'caught-up');
  assert.equal(delivered, seqs);
  assert.equal(errors, ['test pipeline failed; restarting it']);
  sub.unsubscribe();
});

pipeline.run();
