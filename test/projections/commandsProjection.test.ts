import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Entry } from '../../src/journal/entries.js';
import { openJournal, type Journal } from '../../src/journal/journal.js';
import { createProjections } from '../../src/projections/index.js';
import { WIDE_TARGETS } from '../../src/projections/commandsProjection.js';
import { commandHistory, HistoryQuery } from '../../src/queries/commandHistory.js';
import { commandDetails, dueTargets, pendingCommands } from '../../src/projections/commandsReads.js';
import { tempDir } from '../support/server.js';

const FAR = Date.now() + 3_600_000;
const agentsUpTo = (n: number) => Array.from({ length: n }, (_, i) => `ag-${String(i).padStart(4, '0')}`);
const issued = (id: string, agents: string[], expiresAt = FAR): Entry => ({
  type: 'CommandIssued',
  stream: id,
  actor: 'user:olivia',
  data: { id, action: { name: 'restart', args: {}, version: '1' }, target: { type: 'all' }, agents, issuedAt: Date.now(), expiresAt },
});
const perAgent = (type: 'CommandDelivered' | 'CommandSucceeded' | 'CommandExpired', id: string, agent: string): Entry =>
  ({ type, stream: id, actor: `agent:${agent}`, data: { id, agent } }) as Entry;
const append = (j: Journal, ...entries: Entry[]) => j.commit.run((tx) => entries.forEach((e) => tx.append(e)));
const open = (dir: string) => openJournal({ projections: createProjections, dataDir: dir, quotaBytes: 1 << 30 });
const pendingIds = (j: Journal, agent: string, now = Date.now()) => pendingCommands(j.db, agent, now).map((p) => `${p.command.id} ${p.state}`);

interface Ctx {
  dir: string;
  journal: Journal;
}

const wide = suite<Ctx>('commands projection: wide commands');
wide.before.each((ctx) => {
  ctx.dir = tempDir();
  ctx.journal = open(ctx.dir);
});
wide.after.each(async (ctx) => {
  await ctx.journal.close();
  rmSync(ctx.dir, { recursive: true, force: true });
});

wide('an agent’s backlog holds its narrow and wide commands, in issue order, until each is finished', async ({ journal }) => {
  const all = agentsUpTo(WIDE_TARGETS);
  await append(journal, issued('cmd-1', ['ag-0001']));
  await append(journal, issued('cmd-2', all));
  await append(journal, issued('cmd-3', ['ag-0001', 'ag-0002']));
  await append(journal, issued('cmd-4', all.slice(0, WIDE_TARGETS - 1)));
  const wideRows = journal.db.prepare('SELECT command, count(*) AS n, sum(wide) AS wide FROM command_targets GROUP BY command').all();
  assert.equal(wideRows, [
    { command: 'cmd-1', n: 1, wide: 0 },
    { command: 'cmd-2', n: WIDE_TARGETS, wide: WIDE_TARGETS },
    { command: 'cmd-3', n: 2, wide: 0 },
    { command: 'cmd-4', n: WIDE_TARGETS - 1, wide: 0 },
  ]);
  assert.equal(pendingIds(journal, 'ag-0001'), ['cmd-1 pending', 'cmd-2 pending', 'cmd-3 pending', 'cmd-4 pending']);
  assert.equal(pendingIds(journal, `ag-${String(WIDE_TARGETS - 1).padStart(4, '0')}`), ['cmd-2 pending']);
  assert.equal(pendingIds(journal, 'ag-9999'), []);

  await append(journal, perAgent('CommandDelivered', 'cmd-2', 'ag-0001'), perAgent('CommandSucceeded', 'cmd-1', 'ag-0001'));
  assert.equal(pendingIds(journal, 'ag-0001'), ['cmd-2 delivered', 'cmd-3 pending', 'cmd-4 pending']);
  await append(journal, perAgent('CommandSucceeded', 'cmd-2', 'ag-0001'));
  assert.equal(pendingIds(journal, 'ag-0001'), ['cmd-3 pending', 'cmd-4 pending']);
  assert.equal(pendingIds(journal, 'ag-0002'), ['cmd-2 pending', 'cmd-3 pending', 'cmd-4 pending']);
  assert.is(commandDetails(journal.db, 'cmd-2')!.counts.success, 1);
});

wide('a wide command leaves the backlog when it expires, and its due targets are found for expiry', async ({ journal }) => {
  const soon = Date.now() + 60_000;
  await append(journal, issued('cmd-w', agentsUpTo(WIDE_TARGETS), soon));
  assert.equal(pendingIds(journal, 'ag-0003'), ['cmd-w pending']);
  assert.equal(pendingIds(journal, 'ag-0003', soon), []);
  assert.is(dueTargets(journal.db, soon, 1000).length, WIDE_TARGETS);
  await append(journal, perAgent('CommandExpired', 'cmd-w', 'ag-0003'));
  assert.is(dueTargets(journal.db, soon, 1000).length, WIDE_TARGETS - 1);
});

wide.run();

const V1 = `CREATE TABLE commands (id TEXT PRIMARY KEY, seq INTEGER NOT NULL, action TEXT NOT NULL, args TEXT NOT NULL,
    version TEXT NOT NULL, target_type TEXT NOT NULL, target_id TEXT, targets INTEGER NOT NULL, issued_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL, issued_by TEXT NOT NULL);
  CREATE TABLE command_targets (agent TEXT NOT NULL, command TEXT NOT NULL, seq INTEGER NOT NULL, state TEXT NOT NULL,
    expires_at INTEGER NOT NULL, delivered_at INTEGER, finished_at INTEGER, code INTEGER, message TEXT, result TEXT,
    PRIMARY KEY (agent, command)) WITHOUT ROWID;
  CREATE INDEX command_targets_command ON command_targets (command, agent);
  CREATE INDEX command_targets_open ON command_targets (agent, seq) WHERE state IN ('pending', 'delivered');
  CREATE INDEX command_targets_deadline ON command_targets (expires_at) WHERE state IN ('pending', 'delivered');
  CREATE TABLE command_events (id INTEGER PRIMARY KEY, seq INTEGER NOT NULL, time INTEGER NOT NULL, command TEXT NOT NULL,
    agent TEXT, action TEXT NOT NULL, type TEXT NOT NULL, state TEXT NOT NULL, actor TEXT NOT NULL);
  CREATE INDEX command_events_agent ON command_events (agent, id);`;

/** Version 2: targets keyed by (command, agent), issue rows with `fanout`, no `wide`. */
const V2 = `CREATE TABLE projection_versions (name TEXT PRIMARY KEY, version INTEGER NOT NULL);
  INSERT INTO projection_versions VALUES ('commands', 2);
  CREATE TABLE commands (id TEXT PRIMARY KEY, seq INTEGER NOT NULL, action TEXT NOT NULL, args TEXT NOT NULL,
    version TEXT NOT NULL, target_type TEXT NOT NULL, target_id TEXT, targets INTEGER NOT NULL, issued_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL, issued_by TEXT NOT NULL);
  CREATE TABLE command_targets (command TEXT NOT NULL, agent TEXT NOT NULL, seq INTEGER NOT NULL, state TEXT NOT NULL,
    expires_at INTEGER NOT NULL, delivered_at INTEGER, finished_at INTEGER, code INTEGER, message TEXT, result TEXT,
    PRIMARY KEY (command, agent)) WITHOUT ROWID;
  CREATE INDEX command_targets_open ON command_targets (agent, seq) WHERE state IN ('pending', 'delivered');
  CREATE INDEX command_targets_deadline ON command_targets (expires_at) WHERE state IN ('pending', 'delivered');
  CREATE TABLE command_events (id INTEGER PRIMARY KEY, seq INTEGER NOT NULL, time INTEGER NOT NULL, command TEXT NOT NULL,
    agent TEXT, action TEXT NOT NULL, type TEXT NOT NULL, state TEXT NOT NULL, actor TEXT NOT NULL, fanout INTEGER NOT NULL DEFAULT 0);`;

/** An old data folder with command `cmd-old` (seq 7) for ag-1 (success) and ag-2 (pending). */
function oldFolder(dir: string, ddl: string, v1: boolean): void {
  const old = new Database(join(dir, 'comms.db'));
  old.exec(ddl);
  old.prepare("INSERT INTO commands VALUES ('cmd-old', 7, 'restart', '{}', '1', 'all', NULL, 2, 1000, ?, 'user:olivia')").run(FAR);
  const target = old.prepare(
    v1
      ? "INSERT INTO command_targets (agent, command, seq, state, expires_at) VALUES (?, 'cmd-old', 7, ?, ?)"
      : "INSERT INTO command_targets (command, agent, seq, state, expires_at) VALUES ('cmd-old', ?, 7, ?, ?)",
  );
  target.run('ag-2', 'pending', FAR);
  target.run('ag-1', 'success', FAR);
  const event = old.prepare("INSERT INTO command_events (seq, time, command, agent, action, type, state, actor) VALUES (?, 1000, 'cmd-old', ?, 'restart', ?, ?, ?)");
  event.run(7, 'ag-1', 'CommandIssued', 'pending', 'user:olivia');
  event.run(7, 'ag-2', 'CommandIssued', 'pending', 'user:olivia');
  event.run(8, 'ag-1', 'CommandSucceeded', 'success', 'agent:ag-1');
  old.close();
}

async function assertUpgraded(dir: string): Promise<void> {
  const journal = open(dir);
  try {
    assert.equal(journal.db.prepare("SELECT version FROM projection_versions WHERE name = 'commands'").get(), { version: 4 });
    const historyColumns = journal.db.prepare("SELECT name FROM pragma_table_info('command_events')").all().map((c: any) => c.name);
    assert.ok(historyColumns.includes('code') && historyColumns.includes('message'), 'history rows gained code and message');
    const pk = journal.db.prepare("SELECT name FROM pragma_index_info('sqlite_autoindex_command_targets_1') ORDER BY seqno").all();
    assert.equal(pk, [{ name: 'command' }, { name: 'agent' }]);
    assert.equal(commandDetails(journal.db, 'cmd-old')!.targets.map((t) => `${t.agent} ${t.state}`), ['ag-1 success', 'ag-2 pending']);
    assert.equal(pendingIds(journal, 'ag-2'), ['cmd-old pending']);
    await append(journal, issued('cmd-new', ['ag-1', 'ag-2']), issued('cmd-wide', ['ag-2', ...agentsUpTo(WIDE_TARGETS)]));
    // in issue (journal seq) order: this folder's journal is empty, so the new commands have seqs 1 and 2
    assert.equal(pendingIds(journal, 'ag-2'), ['cmd-new pending', 'cmd-wide pending', 'cmd-old pending']);
    const history = commandHistory(journal.db, HistoryQuery.parse({ agent: 'ag-1' }));
    assert.equal(history.items.map((i) => `${i.command} ${i.type} ${i.agent}`), [
      'cmd-old CommandIssued ag-1',
      'cmd-old CommandSucceeded ag-1',
      'cmd-new CommandIssued ag-1',
    ]);
  } finally {
    await journal.close();
  }
  const again = open(dir);
  try {
    assert.is(commandDetails(again.db, 'cmd-new')!.targets.length, 2, 'reopening changes nothing');
    assert.equal(pendingIds(again, 'ag-2'), ['cmd-new pending', 'cmd-wide pending', 'cmd-old pending']);
  } finally {
    await again.close();
  }
}

const upgraded = suite<{ dir: string }>('commands projection: an older data folder');
upgraded.before.each((ctx) => {
  ctx.dir = tempDir();
});
upgraded.after.each((ctx) => {
  rmSync(ctx.dir, { recursive: true, force: true });
});

upgraded('version 1 is upgraded in place when opened: targets, states and the per-agent history rows are kept', async ({ dir }) => {
  oldFolder(dir, V1, true);
  await assertUpgraded(dir);
});

upgraded('version 2 is upgraded in place when opened: its open targets stay in the per-agent index', async ({ dir }) => {
  oldFolder(dir, V2, false);
  await assertUpgraded(dir);
});

upgraded.run();
