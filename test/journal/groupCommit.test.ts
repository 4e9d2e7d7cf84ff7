import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createAppender } from '../../src/journal/appendToJournal.js';
import { openDatabase, type Db } from '../../src/journal/database.js';
import type { Entry } from '../../src/journal/entries.js';
import { JournalFullError } from '../../src/journal/errors.js';
import { createGroupCommit, type GroupCommit } from '../../src/journal/groupCommit.js';
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
