import { rmSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { CommandNotDurableError, decideRefusedCommand, issueCommand, type CommandPublisher } from '../../src/commands/issueCommand.js';
import { RegisterAgent, registerAgent } from '../../src/commands/registerAgent.js';
import { seedCatalog } from '../../src/commands/seedCatalog.js';
import type { EntryOf } from '../../src/journal/entries.js';
import { openJournal, type Journal } from '../../src/journal/journal.js';
import { createProjections } from '../../src/projections/index.js';
import { commandDetails, pendingCommands } from '../../src/projections/commandsReads.js';
import { findAgent } from '../../src/projections/agentsReads.js';
import type { BulkItemResult, IndexerResult } from '../../src/indexer/indexerClient.js';
import { createCommandPublisher } from '../../src/scaleOut/publishCommands.js';
import { decideFollowPackageDoc } from '../../src/scaleOut/sharedPackages.js';
import type { PackageInfo } from '../../src/projections/packagesReads.js';
import { tempDir } from '../support/server.js';

const NOW = Date.parse('2026-12-01T10:00:00Z');
const issued: EntryOf<'CommandIssued'> = {
  type: 'CommandIssued',
  stream: 'c-1',
  actor: 'user:olivia',
  data: { id: 'c-1', action: { name: 'set-group', args: { groups: ['b'] }, version: '1' }, target: { type: 'group', id: 'a' }, agents: ['a1', 'a2'], issuedAt: NOW, expiresAt: NOW + 60_000 },
};

const refused = suite('decideRefusedCommand');

refused('a command the index did not take is journaled issued and cancelled per target, with the reason, and changes no group', () => {
  assert.equal(decideRefusedCommand(issued, 'not taken within 5000 ms'), [
    issued,
    { type: 'CommandCancelled', stream: 'c-1', actor: 'system', data: { id: 'c-1', agent: 'a1', reason: 'not taken within 5000 ms' } },
    { type: 'CommandCancelled', stream: 'c-1', actor: 'system', data: { id: 'c-1', agent: 'a2', reason: 'not taken within 5000 ms' } },
  ]);
});

refused.run();

const pkg = (over: Partial<PackageInfo> = {}): PackageInfo => ({ name: 'p.deb', size: 10, sha256: 'a'.repeat(64), uploaded_at: '', uploaded_by: 'user:o', ...over });
const live = { name: 'p.deb', sha256: 'b'.repeat(64), size: 20, chunks: 1, chunk_size: 1 << 20, uploaded_at: NOW, uploaded_by: 'user:o', updated_at: NOW };

const packages = suite('decideFollowPackageDoc');

packages('a name unknown here or pointing at other content follows the index, by the actor indexer', () => {
  const entry = { type: 'PackageUploaded', stream: 'package:p.deb', actor: 'indexer', data: { name: 'p.deb', size: 20, sha256: 'b'.repeat(64) } };
  assert.equal(decideFollowPackageDoc(live, undefined), [entry]);
  assert.equal(decideFollowPackageDoc(live, pkg()), [entry]);
  assert.equal(decideFollowPackageDoc(live, pkg({ size: 20, sha256: 'b'.repeat(64) })), [], 'the same content: nothing');
});

packages('a tombstone removes a name known here (whatever content it points at), and nothing else', () => {
  const tomb = { name: 'p.deb', deleted: true as const, sha256: 'b'.repeat(64), updated_at: NOW };
  assert.equal(decideFollowPackageDoc(tomb, pkg()), [{ type: 'PackageDeleted', stream: 'package:p.deb', actor: 'indexer', data: { name: 'p.deb', sha256: 'a'.repeat(64) } }]);
  assert.equal(decideFollowPackageDoc(tomb, undefined), []);
});

packages.run();

type Bulk = (lines: readonly string[], refresh?: 'wait_for' | boolean, timeoutMs?: number) => Promise<IndexerResult<BulkItemResult[]>>;
const answering = (...answers: Array<IndexerResult<BulkItemResult[]>>): { bulk: Bulk; calls: string[][] } => {
  const calls: string[][] = [];
  return {
    calls,
    bulk: async (lines) => {
      calls.push([...lines]);
      // the last answer is repeated
      return answers.length > 1 ? answers.shift()! : answers[0]!;
    },
  };
};

const publisher = suite('createCommandPublisher');

publisher('one create per target; retryable items are sent again until they are taken', async () => {
  const idx = answering({ ok: true, value: [{ status: 201 }, { status: 429 }] }, { ok: true, value: [{ status: 201 }] });
  assert.equal(await createCommandPublisher({ indexer: idx, deadlineMs: 2000 }).publish(issued, NOW), { ok: true });
  assert.is(idx.calls.length, 2);
  assert.equal(JSON.parse(idx.calls[0]![0]!), { create: { _index: 'comms-commands', _id: 'c-1:a1' } });
  assert.is(JSON.parse(idx.calls[0]![1]!).state, 'pending');
  assert.equal(JSON.parse(idx.calls[1]![0]!), { create: { _index: 'comms-commands', _id: 'c-1:a2' } }, 'only the refused target again');
});

publisher('a 409 is our own earlier attempt; a refusal that is not retryable ends it at once; retryable ones until the deadline', async () => {
  assert.equal(await createCommandPublisher({ indexer: answering({ ok: true, value: [{ status: 409 }, { status: 201 }] }), deadlineMs: 2000 }).publish(issued, NOW), { ok: true });
  const forbidden = await createCommandPublisher({ indexer: answering({ ok: true, value: [{ status: 403, error: { type: 'cluster_block_exception', reason: 'blocked' } }, { status: 201 }] }), deadlineMs: 2000 }).publish(issued, NOW);
  assert.equal(forbidden, { ok: false, reason: 'indexer refused the item (403): cluster_block_exception: blocked' });
  const started = Date.now();
  const slow = await createCommandPublisher({ indexer: answering({ ok: false, retryable: true, reason: 'indexer unreachable' }), deadlineMs: 600 }).publish(issued, NOW);
  assert.equal(slow, { ok: false, reason: 'not taken within 600 ms: indexer unreachable' });
  assert.ok(Date.now() - started < 5000, 'bounded');
});

publisher.run();

const durable = suite<{ dir: string; journal: Journal }>('issueCommand with a publisher (cluster mode)');

durable.before.each(async (ctx) => {
  ctx.dir = tempDir('comms-api-durable-');
  ctx.journal = openJournal({ projections: createProjections, dataDir: ctx.dir, quotaBytes: 1 << 30 });
  await seedCatalog(ctx.journal);
  const register = registerAgent({ ...ctx.journal, hashKey: (k) => `plain$${k}` });
  for (const uuid of ['a1', 'a2']) await register(RegisterAgent.parse({ uuid, key: 'k'.repeat(32), groups: ['a'] }), 'system');
});
durable.after.each(async (ctx) => {
  await ctx.journal.close();
  rmSync(ctx.dir, { recursive: true, force: true });
});

const port = (outcome: { ok: true } | { ok: false; reason: string }): CommandPublisher & { published: string[] } => {
  const published: string[] = [];
  return { published, publish: async (e) => (published.push(e.data.id), outcome), retract: async () => undefined };
};

durable('taken by the index: journaled afterwards and answered "indexed"', async (ctx) => {
  const p = port({ ok: true });
  const answer = await issueCommand({ ...ctx.journal, publisher: p })({ action: { name: 'restart' }, target: { type: 'group', id: 'a' } }, 'user:olivia');
  assert.is(answer.durability, 'indexed');
  assert.equal(p.published, [answer.id], 'published before it was answered');
  assert.equal(pendingCommands(ctx.journal.db, 'a1', Date.now()).map((c) => c.command.id), [answer.id]);
});

durable('refused by the index: 503 naming the command, which is cancelled with the reason and changed no group', async (ctx) => {
  const issue = issueCommand({ ...ctx.journal, publisher: port({ ok: false, reason: 'not taken within 5000 ms' }) });
  try {
    await issue({ action: { name: 'set-group', args: { groups: ['b'] } }, target: { type: 'group', id: 'a' } }, 'user:olivia');
    assert.unreachable();
  } catch (err) {
    assert.instance(err, CommandNotDurableError);
    const e = err as CommandNotDurableError;
    assert.is(e.status, 503);
    assert.is(e.headers['Retry-After'], '5');
    const details = commandDetails(ctx.journal.db, e.problem.command as string)!;
    assert.equal(details.targets.map((t) => [t.agent, t.state, t.message]), [['a1', 'cancelled', 'not taken within 5000 ms'], ['a2', 'cancelled', 'not taken within 5000 ms']]);
  }
  assert.equal(pendingCommands(ctx.journal.db, 'a1', Date.now()), [], 'never offered');
  assert.equal(JSON.parse(findAgent(ctx.journal.db, 'a1')!.groups), ['a'], 'the groups are unchanged');
});

durable.run();

const delivery = suite('the commands pipeline and a refused command');

delivery('a command cancelled in its own commit is never broadcast; the others are, to their remaining targets', async () => {
  const { Subject } = await import('rxjs');
  const { createCommandsDeliveryPipeline } = await import('../../src/pipelines/commandsDelivery.js');
  let listener: ((entries: Array<Record<string, unknown>>) => void) | undefined;
  const sent: Array<[string, string[]]> = [];
  const sub = createCommandsDeliveryPipeline({
    onCommitted: (l) => ((listener = l as never), () => undefined),
    hub: { broadcast: (c, _cursor, agents) => sent.push([c.id, [...agents]]), disconnect: () => undefined, deliveries$: new Subject<never>() },
    markDelivered: async () => undefined,
    considerDeadline: () => undefined,
    onError: () => undefined,
  }).subscribe();
  const stored = (e: Record<string, unknown>, seq: number) => ({ ...e, seq, time: NOW });
  const other = { ...issued, stream: 'c-2', data: { ...issued.data, id: 'c-2' } };
  listener!([...decideRefusedCommand(issued, 'refused'), other].map(stored));
  listener!([stored({ ...other, stream: 'c-3', data: { ...other.data, id: 'c-3' } }, 9), stored({ type: 'CommandCancelled', stream: 'c-3', actor: 'user:o', data: { id: 'c-3', agent: 'a1' } }, 10)]);
  sub.unsubscribe();
  assert.equal(sent, [['c-2', ['a1', 'a2']], ['c-3', ['a2']]]);
});

delivery.run();
