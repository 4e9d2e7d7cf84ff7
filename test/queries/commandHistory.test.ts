import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Entry } from '../../src/journal/entries.js';
import { openJournal, type Journal } from '../../src/journal/journal.js';
import { commandHistory, HistoryQuery } from '../../src/queries/commandHistory.js';
import { commandDetails, pendingCommands } from '../../src/queries/commands.js';
import { tempDir } from '../support/server.js';

interface Ctx {
  dir: string;
  journal: Journal;
}

const FAR = Date.now() + 3_600_000;
const issued = (id: string, agents: string[], actor = 'user:olivia'): Entry => ({
  type: 'CommandIssued',
  stream: id,
  actor,
  data: { id, action: { name: 'restart', args: {}, version: '1' }, target: { type: 'all' }, agents, issuedAt: Date.now(), expiresAt: FAR },
});
const delivered = (id: string, agent: string): Entry => ({ type: 'CommandDelivered', stream: id, actor: `agent:${agent}`, data: { id, agent } });
const append = (j: Journal, ...entries: Entry[]) => j.commit.run((tx) => entries.forEach((e) => tx.append(e)));
const history = (j: Journal, q: Record<string, string> = {}) => commandHistory(j.db, HistoryQuery.parse(q));
const line = (i: { type: string; agent: string | null; state: string }) => `${i.type} ${i.agent} ${i.state}`;

/** Every page of a query, following next_cursor. */
function allPages(j: Journal, q: Record<string, string>): string[][] {
  const pages: string[][] = [];
  let cursor: string | null = null;
  do {
    const page = history(j, cursor === null ? q : { ...q, cursor });
    pages.push(page.items.map(line));
    cursor = page.next_cursor;
  } while (cursor !== null && pages.length < 50);
  return pages;
}

const expanded = suite<Ctx>('command history: an issue is one row, expanded per target agent');
expanded.before.each((ctx) => {
  ctx.dir = tempDir();
  ctx.journal = openJournal({ dataDir: ctx.dir, quotaBytes: 1 << 30 });
});
expanded.after.each(async (ctx) => {
  await ctx.journal.close();
  rmSync(ctx.dir, { recursive: true, force: true });
});

expanded('a broadcast is stored as one issue row and listed once per agent, in agent order', async ({ journal }) => {
  await append(journal, issued('cmd-a', ['ag-3', 'ag-1', 'ag-2']));
  const rows = journal.db.prepare("SELECT agent, fanout FROM command_events WHERE type = 'CommandIssued'").all();
  assert.equal(rows, [{ agent: null, fanout: 1 }]);
  assert.equal(history(journal).items.map(line), ['CommandIssued ag-1 pending', 'CommandIssued ag-2 pending', 'CommandIssued ag-3 pending']);
});

expanded('pages cut inside a broadcast continue with its next agent, then with later changes', async ({ journal }) => {
  await append(journal, issued('cmd-a', ['ag-1', 'ag-2', 'ag-3']));
  await append(journal, delivered('cmd-a', 'ag-2'));
  await append(journal, issued('cmd-b', ['ag-1', 'ag-2']));
  await append(journal, delivered('cmd-b', 'ag-1'));
  assert.equal(allPages(journal, { limit: '2' }), [
    ['CommandIssued ag-1 pending', 'CommandIssued ag-2 pending'],
    ['CommandIssued ag-3 pending', 'CommandDelivered ag-2 delivered'],
    ['CommandIssued ag-1 pending', 'CommandIssued ag-2 pending'],
    ['CommandDelivered ag-1 delivered'],
  ]);
  assert.equal(allPages(journal, { limit: '1' }).flat(), allPages(journal, { limit: '100' }).flat());
  assert.match(history(journal, { limit: '1' }).next_cursor!, /^\d+~ag-1$/);
});

expanded('filters apply to the expanded agents: agent, status, command and user', async ({ journal }) => {
  await append(journal, issued('cmd-a', ['ag-1', 'ag-2', 'ag-3']));
  await append(journal, delivered('cmd-a', 'ag-2'));
  await append(journal, issued('cmd-b', ['ag-3'], 'admin-socket'));
  assert.equal(history(journal, { agent: 'ag-2' }).items.map(line), ['CommandIssued ag-2 pending', 'CommandDelivered ag-2 delivered']);
  assert.equal(history(journal, { agent: 'ag-3', status: 'pending' }).items.map((i) => i.command), ['cmd-a', 'cmd-b']);
  assert.equal(history(journal, { command: 'cmd-b' }).items.map(line), ['CommandIssued ag-3 pending']);
  assert.is(history(journal, { user: 'olivia' }).items.length, 3);
  assert.equal(history(journal, { agent: 'ag-9' }).items, []);
  assert.is(HistoryQuery.safeParse({ cursor: '12~' }).success, false);
  assert.is(HistoryQuery.safeParse({ cursor: 'abc' }).success, false);
});

expanded.run();

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

const upgraded = suite<{ dir: string }>('commands projection: a data folder of version 1');
upgraded.before.each((ctx) => {
  ctx.dir = tempDir();
});
upgraded.after.each((ctx) => {
  rmSync(ctx.dir, { recursive: true, force: true });
});

upgraded('is upgraded in place when opened: targets, states and the per-agent history rows are kept', async ({ dir }) => {
  const old = new Database(join(dir, 'comms.db'));
  old.exec(V1);
  old.prepare("INSERT INTO commands VALUES ('cmd-old', 7, 'restart', '{}', '1', 'all', NULL, 2, 1000, ?, 'user:olivia')").run(FAR);
  const target = old.prepare("INSERT INTO command_targets (agent, command, seq, state, expires_at) VALUES (?, 'cmd-old', 7, ?, ?)");
  target.run('ag-2', 'pending', FAR);
  target.run('ag-1', 'success', FAR);
  const event = old.prepare("INSERT INTO command_events (seq, time, command, agent, action, type, state, actor) VALUES (?, 1000, 'cmd-old', ?, 'restart', ?, ?, ?)");
  event.run(7, 'ag-1', 'CommandIssued', 'pending', 'user:olivia');
  event.run(7, 'ag-2', 'CommandIssued', 'pending', 'user:olivia');
  event.run(8, 'ag-1', 'CommandSucceeded', 'success', 'agent:ag-1');
  old.close();

  const journal = openJournal({ dataDir: dir, quotaBytes: 1 << 30 });
  try {
    assert.equal(journal.db.prepare("SELECT version FROM projection_versions WHERE name = 'commands'").get(), { version: 2 });
    const pk = journal.db.prepare("SELECT name FROM pragma_index_info('sqlite_autoindex_command_targets_1') ORDER BY seqno").all();
    assert.equal(pk, [{ name: 'command' }, { name: 'agent' }]);
    assert.equal(commandDetails(journal.db, 'cmd-old')!.targets.map((t) => `${t.agent} ${t.state}`), ['ag-1 success', 'ag-2 pending']);
    assert.equal(pendingCommands(journal.db, 'ag-2', Date.now()).map((p) => p.command.id), ['cmd-old']);
    await append(journal, issued('cmd-new', ['ag-1', 'ag-2']));
    assert.equal(history(journal).items.map((i) => `${i.command} ${line(i)}`), [
      'cmd-old CommandIssued ag-1 pending',
      'cmd-old CommandIssued ag-2 pending',
      'cmd-old CommandSucceeded ag-1 success',
      'cmd-new CommandIssued ag-1 pending',
      'cmd-new CommandIssued ag-2 pending',
    ]);
  } finally {
    await journal.close();
  }
  const again = openJournal({ dataDir: dir, quotaBytes: 1 << 30 });
  try {
    assert.is(commandDetails(again.db, 'cmd-new')!.targets.length, 2, 'reopening changes nothing');
  } finally {
    await again.close();
  }
});

upgraded.run();
