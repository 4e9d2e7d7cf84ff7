import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createAppender } from '../../src/journal/appendToJournal.js';
import { openDatabase, type Db } from '../../src/journal/database.js';
import type { Entry, StoredEntry } from '../../src/journal/entries.js';
import { JournalFullError } from '../../src/journal/errors.js';
import { createGroupCommit, type GroupCommit, type WrittenElsewhere } from '../../src/journal/groupCommit.js';
import { verifyChain } from '../../src/journal/verifyChain.js';

interface Ctx {
  db: Db;
  commit: GroupCommit;
  flushes: number[];
  committed: number[];
}

const deleted = (uuid: string): Entry => ({ type: 'AgentDeleted', stream: uuid, actor: 'test', data: { uuid } });

function setup(ctx: Ctx, quotaBytes = 1 << 30): void {
  ctx.db = openDatabase(':memory:');
  ctx.flushes = [];
  ctx.committed = [];
  ctx.commit = createGroupCommit({
    db: ctx.db,
    appender: createAppender(ctx.db),
    projections: [],
    quotaBytes,
    onFlushed: (jobs) => ctx.flushes.push(jobs),
    onCommitted: (entries) => ctx.committed.push(...entries.map((e) => e.seq)),
  });
}

const GroupCommitSuite = suite<Ctx>('group commit');
GroupCommitSuite.before.each((ctx) => setup(ctx));
GroupCommitSuite.after.each((ctx) => {
  ctx.db.close();
});

GroupCommitSuite('appends that arrive in the same turn share one transaction', async (ctx) => {
  const results = await Promise.all(Array.from({ length: 500 }, (_, i) => ctx.commit.run((tx) => tx.append(deleted(`a${i}`)).seq)));
  assert.equal(ctx.flushes, [500]);
  assert.equal(results, Array.from({ length: 500 }, (_, i) => i + 1));
  assert.is(ctx.commit.stats.commits, 1);
});

GroupCommitSuite('appends of later turns get later transactions', async (ctx) => {
  await ctx.commit.run((tx) => tx.append(deleted('a')));
  await Promise.all([ctx.commit.run((tx) => tx.append(deleted('b'))), ctx.commit.run((tx) => tx.append(deleted('c')))]);
  assert.equal(ctx.flushes, [1, 2]);
});

GroupCommitSuite('each caller is resolved only after its commit is durable', async (ctx) => {
  let rowsSeenAtResolve = -1;
  await ctx.commit.run((tx) => tx.append(deleted('a'))).then(() => {
    // outside any transaction: the row is committed when the promise resolves
    assert.not.ok(ctx.db.inTransaction);
    rowsSeenAtResolve = (ctx.db.prepare('SELECT count(*) AS n FROM journal').get() as { n: number }).n;
  });
  assert.is(rowsSeenAtResolve, 1);
  assert.equal(ctx.committed, [1]);
});

GroupCommitSuite('a failing unit of work rolls back only itself', async (ctx) => {
  const ok1 = ctx.commit.run((tx) => tx.append(deleted('a')).seq);
  const bad = ctx.commit.run((tx) => {
    tx.append(deleted('b'));
    throw new Error('decided no');
  });
  const ok2 = ctx.commit.run((tx) => tx.append(deleted('c')).seq);
  assert.is(await ok1, 1);
  try {
    await bad;
    assert.unreachable();
  } catch (e) {
    assert.instance(e, Error);
    assert.is((e as Error).message, 'decided no');
  }
  assert.is(await ok2, 2);
  const streams = ctx.db.prepare('SELECT stream FROM journal ORDER BY seq').pluck().all();
  assert.equal(streams, ['a', 'c']);
  assert.ok(verifyChain(ctx.db).ok);
});

GroupCommitSuite('a failing commit rejects every caller in it', async (ctx) => {
  // A trigger makes COMMIT-time constraint checking fail for the whole transaction.
  ctx.db.exec(`CREATE TABLE guard (x INTEGER REFERENCES missing_parent(id) DEFERRABLE INITIALLY DEFERRED)`);
  ctx.db.exec(`CREATE TABLE missing_parent (id INTEGER PRIMARY KEY)`);
  const calls = Array.from({ length: 5 }, (_, i) =>
    ctx.commit.run((tx) => {
      tx.append(deleted(`a${i}`));
      if (i === 2) ctx.db.prepare('INSERT INTO guard (x) VALUES (42)').run();
    }),
  );
  const settled = await Promise.allSettled(calls);
  assert.ok(settled.every((s) => s.status === 'rejected'));
  assert.is((ctx.db.prepare('SELECT count(*) AS n FROM journal').get() as { n: number }).n, 0);
  assert.equal(ctx.committed, []);
  // and the journal goes on afterwards
  ctx.db.exec('DROP TABLE guard');
  assert.is(await ctx.commit.run((tx) => tx.append(deleted('z')).seq), 1);
});

GroupCommitSuite('close refuses new work and commits what is queued', async (ctx) => {
  const queued = ctx.commit.run((tx) => tx.append(deleted('a')).seq);
  await ctx.commit.close();
  assert.is(await queued, 1);
  try {
    await ctx.commit.run((tx) => tx.append(deleted('b')));
    assert.unreachable();
  } catch (e) {
    assert.match((e as Error).message, /closing/);
  }
});

GroupCommitSuite('a held commit waits for the held job, then the two share one transaction', async (ctx) => {
  const release = ctx.commit.hold();
  const first = ctx.commit.run((tx) => tx.append(deleted('a')).seq);
  await new Promise((resolve) => setTimeout(resolve, 2));
  assert.equal(ctx.flushes, [], 'nothing is committed while a job is held (within maxHoldMs)');
  const second = ctx.commit.run((tx) => tx.append(deleted('b')).seq);
  release();
  assert.equal(await Promise.all([first, second]), [1, 2]);
  assert.equal(ctx.flushes, [2]);
});

GroupCommitSuite('a hold never released delays a queued job by maxHoldMs at most', async (ctx) => {
  const db = openDatabase(':memory:');
  const flushes: number[] = [];
  const commit = createGroupCommit({ db, appender: createAppender(db), projections: [], quotaBytes: 1 << 30, maxHoldMs: 30, onFlushed: (jobs) => flushes.push(jobs) });
  commit.hold();
  const started = performance.now();
  assert.is(await commit.run((tx) => tx.append(deleted('a')).seq), 1);
  const waited = performance.now() - started;
  assert.ok(waited >= 25, `waited ${waited.toFixed(1)} ms`);
  assert.equal(flushes, [1]);
  // a job queued after the first commit waits again, at most as long
  assert.is(await commit.run((tx) => tx.append(deleted('b')).seq), 2);
  await commit.close();
  db.close();
});

GroupCommitSuite('a second release of one hold changes nothing: the next hold is still counted', async (ctx) => {
  const release = ctx.commit.hold();
  release();
  release();
  const next = ctx.commit.hold();
  const job = ctx.commit.run((tx) => tx.append(deleted('a')).seq);
  await new Promise((resolve) => setTimeout(resolve, 2));
  assert.equal(ctx.flushes, [], 'the new hold makes the job wait');
  next();
  assert.is(await job, 1);
  assert.equal(ctx.flushes, [1]);
});

GroupCommitSuite('under pressure a commit waits after the last one as long as it took (at most commitWindowMs); after a quiet spell it does not', async () => {
  const db = openDatabase(':memory:');
  let slow = true;
  // a projection that makes the first commit take ~20 ms (as a slow fsync would)
  const busy = { name: 'busy', project: () => { const until = performance.now() + 20; while (slow && performance.now() < until); slow = false; } };
  const commit = createGroupCommit({ db, appender: createAppender(db), projections: [busy], quotaBytes: 1 << 30, commitWindowMs: 15 });
  await commit.run((tx) => tx.append(deleted('a')));
  const started = performance.now();
  await commit.run((tx) => tx.append(deleted('b')));
  const waited = performance.now() - started;
  assert.ok(waited >= 12, `the commit right after a 20 ms one waited ${waited.toFixed(1)} ms (window 15 ms)`);
  await new Promise((resolve) => setTimeout(resolve, 30));
  const quiet = performance.now();
  await commit.run((tx) => tx.append(deleted('c')));
  assert.ok(performance.now() - quiet < 10, 'after a quiet spell a job is committed at once');
  await commit.close();
  db.close();
});

GroupCommitSuite.run();

const Quota = suite<Ctx>('journal quota');
Quota.before.each((ctx) => setup(ctx, 64 * 1024));
Quota.after.each((ctx) => {
  ctx.db.close();
});

Quota('appends are refused with JournalFullError once the quota is reached', async (ctx) => {
  const big = Buffer.alloc(16 * 1024, 120);
  let refused: unknown = null;
  for (let i = 0; i < 20 && !refused; i++) {
    try {
      await ctx.commit.run((tx) =>
        tx.append({ type: 'StatelessEventsReceived', stream: 'a', actor: 'test', data: { agent: 'a', events: 1 }, body: big }),
      );
    } catch (e) {
      refused = e;
    }
  }
  assert.instance(refused, JournalFullError);
  assert.is((refused as JournalFullError).retryAfter > 0, true);
});

Quota.run();

interface TurnCtx extends Ctx {
  dir: string;
  /** A second connection to the same file (what the worker thread of large batches has). */
  other: Db;
  otherCommit: GroupCommit;
  otherCommitted: StoredEntry[];
}

/** A write on the other connection that starts when the turn is given and ends when `release` is called. */
function heldWrite(ctx: TurnCtx, stream: string) {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let started = false;
  const write = async (): Promise<WrittenElsewhere<number>> => {
    started = true;
    await released;
    const seq = await ctx.otherCommit.run((tx) => tx.append(deleted(stream)).seq);
    return { value: seq, entries: ctx.otherCommitted.splice(0) };
  };
  return { write, release, started: () => started };
}

const Turns = suite<TurnCtx>('group commit: turns written elsewhere');
Turns.before.each((ctx) => {
  ctx.dir = mkdtempSync(join(tmpdir(), 'comms-api-turns-'));
  const file = join(ctx.dir, 'comms.db');
  ctx.db = openDatabase(file);
  ctx.other = openDatabase(file);
  ctx.flushes = [];
  ctx.committed = [];
  ctx.otherCommitted = [];
  ctx.commit = createGroupCommit({
    db: ctx.db,
    appender: createAppender(ctx.db),
    projections: [],
    quotaBytes: 1 << 30,
    onFlushed: (jobs) => ctx.flushes.push(jobs),
    onCommitted: (entries) => ctx.committed.push(...entries.map((e) => e.seq)),
  });
  ctx.otherCommit = createGroupCommit({
    db: ctx.other,
    appender: createAppender(ctx.other),
    projections: [],
    quotaBytes: 1 << 30,
    onCommitted: (entries) => ctx.otherCommitted.push(...entries),
  });
});
Turns.after.each((ctx) => {
  ctx.db.close();
  ctx.other.close();
  rmSync(ctx.dir, { recursive: true, force: true });
});

Turns('work queued before a turn commits first; work queued during it waits until it settled; the chain is one', async (ctx) => {
  const before = ctx.commit.run((tx) => tx.append(deleted('before')).seq);
  const held = heldWrite(ctx, 'elsewhere');
  const turn = ctx.commit.turn(held.write);
  assert.is(await before, 1);
  await new Promise((r) => setImmediate(r));
  assert.ok(held.started(), 'the turn is given once the work before it committed');
  let duringDone = false;
  const during = ctx.commit.run((tx) => tx.append(deleted('during')).seq).then((seq) => ((duringDone = true), seq));
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  assert.not.ok(duringDone, 'nothing is committed on this connection while the turn is away');
  assert.not.ok(ctx.db.inTransaction);
  held.release();
  assert.is(await turn, 2);
  assert.is(await during, 3);
  assert.equal(ctx.committed, [1, 2, 3], 'the turn\'s entries are announced in seq order');
  assert.equal(ctx.db.prepare('SELECT stream FROM journal ORDER BY seq').pluck().all(), ['before', 'elsewhere', 'during']);
  assert.ok(verifyChain(ctx.db).ok);
});

Turns('a failing turn rejects its caller only, and the group commit goes on', async (ctx) => {
  const turn = ctx.commit.turn(async () => {
    throw new Error('the worker said no');
  });
  const after = ctx.commit.run((tx) => tx.append(deleted('after')).seq);
  try {
    await turn;
    assert.unreachable();
  } catch (e) {
    assert.is((e as Error).message, 'the worker said no');
  }
  assert.is(await after, 1);
});

Turns('a full journal refuses a turn without giving it', async (ctx) => {
  const full = createGroupCommit({ db: ctx.db, appender: createAppender(ctx.db), projections: [], quotaBytes: 1 });
  let given = false;
  try {
    await full.turn(async () => {
      given = true;
      return { value: 0, entries: [] };
    });
    assert.unreachable();
  } catch (e) {
    assert.instance(e, JournalFullError);
  }
  assert.not.ok(given);
});

Turns('close waits for a turn that is away', async (ctx) => {
  const held = heldWrite(ctx, 'elsewhere');
  const turn = ctx.commit.turn(held.write);
  await new Promise((r) => setImmediate(r));
  let closed = false;
  const closing = ctx.commit.close().then(() => (closed = true));
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  assert.not.ok(closed);
  held.release();
  await closing;
  assert.is(await turn, 1);
});

Turns.run();
