import { rmSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Entry } from '../../src/journal/entries.js';
import { openJournal, type Journal } from '../../src/journal/journal.js';
import { createProjections } from '../../src/projections/index.js';
import { commandHistory, HistoryQuery } from '../../src/queries/commandHistory.js';
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
  ctx.journal = openJournal({ projections: createProjections, dataDir: ctx.dir, quotaBytes: 1 << 30 });
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

expanded('a broadcast\'s deliveries are one CommandsDelivered entry, listed once per agent like single deliveries', async ({ journal }) => {
  await append(journal, issued('cmd-a', ['ag-1', 'ag-2', 'ag-3']));
  await append(journal, { type: 'CommandsDelivered', stream: 'cmd-a', actor: 'system', data: { id: 'cmd-a', agents: ['ag-3', 'ag-1'] } });
  await append(journal, delivered('cmd-a', 'ag-2'));
  assert.is((journal.db.prepare("SELECT count(*) AS n FROM journal WHERE type LIKE 'Command%Delivered'").get() as { n: number }).n, 2);
  const items = history(journal).items;
  assert.equal(items.map(line).slice(3), ['CommandDelivered ag-3 delivered', 'CommandDelivered ag-1 delivered', 'CommandDelivered ag-2 delivered']);
  assert.equal(items.slice(3).map((i) => i.actor), ['agent:ag-3', 'agent:ag-1', 'agent:ag-2']);
  assert.equal(history(journal, { agent: 'ag-1', status: 'delivered' }).items.map(line), ['CommandDelivered ag-1 delivered']);
  assert.equal(allPages(journal, { limit: '1' }).flat(), allPages(journal, { limit: '100' }).flat());
  const states = journal.db.prepare("SELECT agent, state FROM command_targets WHERE command = 'cmd-a' ORDER BY agent").all();
  assert.equal(states, [{ agent: 'ag-1', state: 'delivered' }, { agent: 'ag-2', state: 'delivered' }, { agent: 'ag-3', state: 'delivered' }]);
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
