import { rmSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decideFollowCommandDoc, followCommandsIndex } from '../../src/scaleOut/followCommandsIndex.js';
import { decideFollowAgentDoc } from '../../src/scaleOut/followAgentsIndex.js';
import { decideImportAgent, tokenFitsRegistration } from '../../src/scaleOut/importAgent.js';
import { newCommandId } from '../../src/commands/issueCommand.js';
import { commandIdTime } from '../../src/scaleOut/recordIndexedCommandResult.js';
import { openJournal, type Journal } from '../../src/journal/journal.js';
import { createProjections } from '../../src/projections/index.js';
import type { AgentRow } from '../../src/projections/agentsReads.js';
import { commandDetails } from '../../src/projections/commandsReads.js';
import { commandHistory, HistoryQuery } from '../../src/queries/commandHistory.js';
import type { CommandDoc, RegisteredAgentDoc } from '../../src/indexer/indexedDocs.js';
import { tempDir } from '../support/server.js';

const NOW = Date.parse('2026-11-27T10:00:00Z');
const pendingDoc = (over: Partial<CommandDoc> = {}): CommandDoc => ({
  command_id: 'cmd-1',
  agent: 'ag-1',
  state: 'pending',
  actor: 'user:olivia',
  issued_by: 'user:olivia',
  updated_at: NOW - 1000,
  action: { name: 'restart', version: '1', args: {} },
  target: { type: 'group', id: 'web' },
  issued_at: NOW - 1000,
  expires_at: NOW + 60_000,
  ...over,
});
const here = { connected: true, now: NOW };
const away = { connected: false, now: NOW };

const follow = suite('decideFollowCommandDoc');

follow('an open target of an agent connected here is imported, pending, with its issuer', () => {
  assert.equal(decideFollowCommandDoc(pendingDoc(), undefined, here), [
    {
      type: 'CommandImported',
      stream: 'cmd-1',
      actor: 'indexer',
      data: {
        id: 'cmd-1',
        action: { name: 'restart', args: {}, version: '1' },
        target: { type: 'group', id: 'web' },
        agents: ['ag-1'],
        issuedAt: NOW - 1000,
        expiresAt: NOW + 60_000,
        issuedBy: 'user:olivia',
      },
    },
  ]);
  const delivered = decideFollowCommandDoc(pendingDoc({ state: 'delivered', actor: 'agent:ag-1' }), undefined, here);
  assert.is(delivered.length, 1, 'delivered on another connection: still offered here');
});

follow('nothing is imported for agents elsewhere, finished or expired targets, or documents without the command', () => {
  assert.equal(decideFollowCommandDoc(pendingDoc(), undefined, away), []);
  assert.equal(decideFollowCommandDoc(pendingDoc({ state: 'success' }), undefined, here), []);
  assert.equal(decideFollowCommandDoc(pendingDoc({ expires_at: NOW }), undefined, here), []);
  const { action: _a, ...stateOnly } = pendingDoc({ state: 'delivered' });
  assert.equal(decideFollowCommandDoc(stateOnly, undefined, here), []);
});

follow('a target open here and finished elsewhere is observed with the remote actor, time and outcome', () => {
  const doc = pendingDoc({ state: 'failure', actor: 'agent:ag-1', updated_at: NOW - 5, code: 28, message: 'disk full', result: { free: 0 } });
  for (const local of ['pending', 'delivered'] as const) {
    assert.equal(decideFollowCommandDoc(doc, { state: local }, here), [
      {
        type: 'CommandStateObserved',
        stream: 'cmd-1',
        actor: 'indexer',
        data: { id: 'cmd-1', agent: 'ag-1', state: 'failure', by: 'agent:ag-1', at: NOW - 5, code: 28, message: 'disk full', result: { free: 0 } },
      },
    ]);
  }
});

follow('a remote delivery is observed only for agents not connected here; finished targets never change', () => {
  const delivered = pendingDoc({ state: 'delivered', actor: 'agent:ag-1' });
  assert.equal(decideFollowCommandDoc(delivered, { state: 'pending' }, here), []);
  assert.equal(decideFollowCommandDoc(delivered, { state: 'pending' }, away).map((e) => e.type), ['CommandStateObserved']);
  assert.equal(decideFollowCommandDoc(delivered, { state: 'delivered' }, away), []);
  assert.equal(decideFollowCommandDoc(pendingDoc({ state: 'expired' }), { state: 'success' }, away), []);
  assert.equal(decideFollowCommandDoc(pendingDoc(), { state: 'pending' }, away), [], 'this node’s own state');
});

follow.run();

const agents = suite('agents across nodes');
const row = (registered_at: number): AgentRow => ({
  uuid: 'ag-1', name: 'ag-1', key_hash: 'h', groups: '[]', registered_at, last_seen: null, last_event_seq: null,
});
const doc: RegisteredAgentDoc = { uuid: 'ag-1', name: 'one', groups: ['web', 'web'], key_hash: 'scrypt$x', registered_at: NOW - 1500 };

agents('an agent unknown here is imported by the actor indexer; a known one is not', () => {
  assert.equal(decideImportAgent(undefined, doc), [
    { type: 'AgentRegistered', stream: 'ag-1', actor: 'indexer', data: { uuid: 'ag-1', name: 'one', groups: ['web'], keyHash: 'scrypt$x' } },
  ]);
  assert.equal(decideImportAgent(row(NOW), doc), []);
});

agents('a token fits the registration it was issued for, not an earlier one nor a revoked one', () => {
  assert.ok(tokenFitsRegistration(doc, Math.floor((NOW - 1500) / 1000) * 1000, undefined));
  assert.ok(tokenFitsRegistration(doc, NOW, undefined));
  assert.not.ok(tokenFitsRegistration(doc, NOW - 5000, undefined));
  assert.not.ok(tokenFitsRegistration(doc, NOW, NOW));
  assert.ok(tokenFitsRegistration(doc, NOW, NOW - 10_000));
});

agents('a tombstone deletes the agent here unless it predates this node’s registration', () => {
  const tomb = (at: number) => ({ uuid: 'ag-1', deleted: true as const, deleted_at: at });
  assert.equal(decideFollowAgentDoc(tomb(NOW), row(NOW - 10), NOW - 10), [
    { type: 'AgentDeleted', stream: 'ag-1', actor: 'indexer', data: { uuid: 'ag-1' } },
  ]);
  assert.equal(decideFollowAgentDoc(tomb(NOW - 10), row(NOW), NOW), []);
  assert.equal(decideFollowAgentDoc(tomb(NOW), undefined, undefined), []);
});

agents('groups changed on another node after this node last set them are taken over; older documents are not', () => {
  const changed = { ...doc, groups: ['db', 'web'], updated_at: NOW };
  assert.equal(decideFollowAgentDoc(changed, row(NOW - 5000), NOW - 5000), [
    { type: 'AgentGroupsChanged', stream: 'ag-1', actor: 'indexer', data: { uuid: 'ag-1', groups: ['db', 'web'] } },
  ]);
  assert.equal(decideFollowAgentDoc(changed, row(NOW - 5000), NOW), [], 'this node changed them since: not mirrored yet');
  assert.equal(decideFollowAgentDoc({ ...changed, groups: [] }, row(NOW - 5000), NOW - 5000), [], 'the same groups');
  assert.equal(decideFollowAgentDoc(changed, undefined, undefined), [], 'an agent this node does not know');
});

agents('a command id tells when it was issued', () => {
  assert.is(commandIdTime(newCommandId(NOW)), NOW);
  assert.is(commandIdTime('not-an-id'), undefined);
});

agents.run();

const journaled = suite<{ dir: string; journal: Journal }>('following the commands index through the journal');

journaled.before.each((ctx) => {
  ctx.dir = tempDir('comms-api-follow-');
  ctx.journal = openJournal({ projections: createProjections, dataDir: ctx.dir, quotaBytes: 1 << 30 });
});
journaled.after.each(async (ctx) => {
  await ctx.journal.close();
  rmSync(ctx.dir, { recursive: true, force: true });
});

journaled('imports and observations reach the read models; following the same documents again journals nothing', async (ctx) => {
  const apply = followCommandsIndex(ctx.journal);
  const connected = (agent: string) => agent === 'ag-1';
  const docs = [pendingDoc({ expires_at: Date.now() + 60_000 }), pendingDoc({ agent: 'ag-2', expires_at: Date.now() + 60_000 })];
  assert.is(await apply(docs, connected), 1, 'only the connected agent’s target');
  const imported = commandDetails(ctx.journal.db, 'cmd-1')!;
  assert.is(imported.issued_by, 'user:olivia');
  assert.equal(imported.targets.map((t) => [t.agent, t.state]), [['ag-1', 'pending']]);

  const finished = [pendingDoc({ state: 'success', actor: 'agent:ag-1', updated_at: NOW, message: 'ok', expires_at: Date.now() + 60_000 })];
  assert.is(await apply(finished, () => false), 1);
  assert.is(await apply(finished, () => false), 0);
  assert.is(await apply(docs, connected), 0);
  const done = commandDetails(ctx.journal.db, 'cmd-1')!;
  assert.equal(done.targets, [{ agent: 'ag-1', state: 'success', finished_at: new Date(NOW).toISOString(), message: 'ok' }]);
  const history = commandHistory(ctx.journal.db, HistoryQuery.parse({}));
  assert.equal(history.items.map((i) => `${i.type} ${i.state} ${i.actor}`), ['CommandImported pending indexer', 'CommandStateObserved success indexer']);
});

journaled.run();
