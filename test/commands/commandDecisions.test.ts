import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { checkArgs, compileArgsSchema, InvalidArgsError } from '../../src/catalog/argsSchema.js';
import { SEED_CATALOG } from '../../src/commands/seedCatalog.js';
import { decideExpire } from '../../src/commands/expireCommands.js';
import { decideIssueCommand, InvalidTargetError, newCommandId, UnknownActionError, type IssueCommand } from '../../src/commands/issueCommand.js';
import { decideDeliveries, decideMarkDelivered, decideMarkDeliveredBatch } from '../../src/commands/markCommandDelivered.js';
import {
  AlreadyReportedError,
  decideRecordCommandResult,
  NotATargetError,
  UnknownCommandError,
} from '../../src/commands/recordCommandResult.js';
import { asAgentId, asCommandId } from '../../src/journal/ids.js';
import type { CatalogEntryDto } from '../../src/projections/catalogReads.js';

const def = (name: string): CatalogEntryDto => {
  const seed = SEED_CATALOG.find((s) => s.name === name)!;
  return { ...seed, updated_at: '', updated_by: 'system', revision: 1 };
};
const at = { id: asCommandId('c-1'), now: 1_000_000, actor: 'user:olivia' };
const members = { web: ['a1', 'a2'] } as Record<string, string[]>;
const resolve = (t: IssueCommand['target']) => (t.type === 'group' ? members[t.id!] ?? [] : t.type === 'agent' ? [t.id!] : ['a1', 'a2', 'a3']);

const issue = suite('decideIssueCommand');

issue('a valid command becomes one CommandIssued with its agents and deadline', () => {
  const entries = decideIssueCommand(
    { action: { name: 'upgrade', args: { package: 'x.deb' } }, target: { type: 'group', id: 'web' }, timeout: 30 },
    def('upgrade'),
    resolve,
    at,
  );
  assert.equal(entries, [
    {
      type: 'CommandIssued',
      stream: 'c-1',
      actor: 'user:olivia',
      data: {
        id: 'c-1',
        action: { name: 'upgrade', args: { package: 'x.deb' }, version: '1' },
        target: { type: 'group', id: 'web' },
        agents: ['a1', 'a2'],
        issuedAt: 1_000_000,
        expiresAt: 1_030_000,
      },
    },
  ]);
});

issue('an upgrade naming a package the store does not hold is refused, naming the field', () => {
  const cmd = { action: { name: 'upgrade', args: { package: 'missing.deb' } }, target: { type: 'all' as const } };
  try {
    decideIssueCommand(cmd, def('upgrade'), resolve, { ...at, packageExists: (n) => n === 'x.deb' });
    assert.unreachable();
  } catch (e) {
    assert.instance(e, InvalidArgsError);
    assert.equal((e as InvalidArgsError).errors.map((x) => x.field), ['action.args.package']);
  }
  const ok = decideIssueCommand({ ...cmd, action: { name: 'upgrade', args: { package: 'x.deb' } } }, def('upgrade'), resolve, { ...at, packageExists: (n) => n === 'x.deb' });
  assert.is(ok.length, 1);
});

issue('set-group also replaces each target’s groups', () => {
  const entries = decideIssueCommand(
    { action: { name: 'set-group', args: { groups: ['db'] } }, target: { type: 'group', id: 'web' } },
    def('set-group'),
    resolve,
    at,
  );
  assert.equal(entries.slice(1).map((e) => [e.type, e.data]), [
    ['AgentGroupsChanged', { uuid: 'a1', groups: ['db'] }],
    ['AgentGroupsChanged', { uuid: 'a2', groups: ['db'] }],
  ]);
});

issue('an unknown action, a disallowed target type and bad args are refused', () => {
  assert.throws(() => decideIssueCommand({ action: { name: 'nope' }, target: { type: 'all' } }, undefined, resolve, at), (e: unknown) => e instanceof UnknownActionError);
  assert.throws(
    () => decideIssueCommand({ action: { name: 'set-group', args: { groups: [] } }, target: { type: 'all' } }, def('set-group'), resolve, at),
    (e: unknown) => e instanceof InvalidTargetError,
  );
  assert.throws(
    () => decideIssueCommand({ action: { name: 'restart', args: { now: true } }, target: { type: 'all' } }, def('restart'), resolve, at),
    (e: unknown) => e instanceof InvalidArgsError && e.errors[0]!.field === 'action.args.now',
  );
});

issue('command ids sort by time and are unique', () => {
  const ids = [newCommandId(5), newCommandId(5), newCommandId(6), newCommandId(1_000_000_000_000)];
  assert.equal([...ids].sort(), ids);
  assert.is(new Set(ids).size, 4);
});

issue.run();

const results = suite('decideRecordCommandResult');
const cmd = (status: 'success' | 'failure') => ({ agent: asAgentId('a1'), id: asCommandId('c-1'), result: { status, code: 1 }, now: 100 });

results('a pending or delivered target records success or failure with the agent as actor', () => {
  const [ok] = decideRecordCommandResult(true, { state: 'delivered', expires_at: 200 }, cmd('success'));
  assert.equal(ok, { type: 'CommandSucceeded', stream: 'c-1', actor: 'agent:a1', data: { id: 'c-1', agent: 'a1', code: 1 } });
  const fromPending = decideRecordCommandResult(true, { state: 'pending', expires_at: 200 }, cmd('failure'));
  assert.equal(fromPending.map((e) => e.type), ['CommandDelivered', 'CommandFailed'], 'a result proves delivery');
});

results('unknown command, non-target, already reported and expired are refused', () => {
  assert.throws(() => decideRecordCommandResult(false, undefined, cmd('success')), (e: unknown) => e instanceof UnknownCommandError);
  assert.throws(() => decideRecordCommandResult(true, undefined, cmd('success')), (e: unknown) => e instanceof NotATargetError);
  for (const state of ['success', 'failure', 'expired'] as const) {
    assert.throws(() => decideRecordCommandResult(true, { state, expires_at: 200 }, cmd('success')), (e: unknown) => e instanceof AlreadyReportedError);
  }
  assert.throws(() => decideRecordCommandResult(true, { state: 'pending', expires_at: 100 }, cmd('success')), (e: unknown) => e instanceof AlreadyReportedError);
});

results.run();

const lifecycle = suite('delivery and expiry decisions');

lifecycle('only the first delivery of a pending target is journaled', () => {
  assert.is(decideMarkDelivered('pending', { agent: 'a', id: 'c' }).length, 1);
  for (const s of ['delivered', 'success', 'failure', 'expired', undefined] as const) {
    assert.equal(decideMarkDelivered(s, { agent: 'a', id: 'c' }), []);
  }
});

lifecycle('a commit window\'s deliveries become one entry per command: CommandsDelivered for several agents', () => {
  const state = (d: { id: string; agent: string }): 'success' | 'pending' => (d.agent === 'a9' ? 'success' : 'pending');
  const entries = decideMarkDeliveredBatch(state, [
    { id: 'c-1', agent: 'a1' },
    { id: 'c-2', agent: 'a1' },
    { id: 'c-1', agent: 'a2' },
    { id: 'c-1', agent: 'a9' },
    { id: 'c-1', agent: 'a2' },
  ]);
  assert.equal(entries, [
    { type: 'CommandsDelivered', stream: 'c-1', actor: 'system', data: { id: 'c-1', agents: ['a1', 'a2'] } },
    { type: 'CommandDelivered', stream: 'c-2', actor: 'agent:a1', data: { id: 'c-2', agent: 'a1' } },
  ]);
});

lifecycle('a window\'s new deliveries are each agent once per command, in order; the rest are not new', () => {
  const state = (d: { id: string; agent: string }): 'success' | 'pending' => (d.agent === 'a9' ? 'success' : 'pending');
  const { fresh } = decideDeliveries(state, [
    { id: 'c-1', agent: 'a1' },
    { id: 'c-1', agent: 'a9' },
    { id: 'c-1', agent: 'a1' },
    { id: 'c-2', agent: 'a1' },
  ]);
  assert.equal(fresh, [{ id: 'c-1', agent: 'a1' }, { id: 'c-2', agent: 'a1' }]);
});

lifecycle('every due target expires, with the system as actor', () => {
  assert.equal(decideExpire([{ command: 'c', agent: 'a' }]), [
    { type: 'CommandExpired', stream: 'c', actor: 'system', data: { id: 'c', agent: 'a' } },
  ]);
});

lifecycle.run();

const schemas = suite('catalogue args schemas');

schemas('every seed schema compiles', () => {
  for (const s of SEED_CATALOG) compileArgsSchema(s.args);
});

schemas('invalid schemas are refused with the offending part named', () => {
  try {
    compileArgsSchema({ type: 'object', properties: { a: { type: 'strnig' } } });
    assert.unreachable();
  } catch (e) {
    assert.instance(e, InvalidArgsError);
  }
  try {
    compileArgsSchema({ type: 'object', requierd: ['a'] });
    assert.unreachable();
  } catch (e) {
    assert.instance(e, InvalidArgsError);
  }
});

schemas('field names come from the instance path', () => {
  const schema = { type: 'object', properties: { list: { type: 'array', items: { type: 'integer' } }, 'a/b': { type: 'string' } } };
  try {
    checkArgs(schema, { list: [1, 'two'], 'a/b': 3 });
    assert.unreachable();
  } catch (e) {
    assert.instance(e, InvalidArgsError);
    assert.equal((e as InvalidArgsError).errors.map((x) => x.field).sort(), ['action.args.a/b', 'action.args.list.1']);
  }
});

schemas.run();

const redefined = suite('a redefined set-group');

redefined('still needs a valid groups list before it changes membership', () => {
  const loose: CatalogEntryDto = { ...def('set-group'), args: { type: 'object' } };
  try {
    decideIssueCommand({ action: { name: 'set-group', args: { groups: ['../etc'] } }, target: { type: 'group', id: 'web' } }, loose, resolve, at);
    assert.unreachable();
  } catch (e) {
    assert.instance(e, InvalidArgsError);
    assert.is((e as InvalidArgsError).errors[0]!.field, 'action.args.groups.0');
  }
  try {
    decideIssueCommand({ action: { name: 'set-group', args: {} }, target: { type: 'group', id: 'web' } }, loose, resolve, at);
    assert.unreachable();
  } catch (e) {
    assert.instance(e, InvalidArgsError);
  }
});

redefined.run();

const lenient = suite('valid schemas that strict type checks would refuse');

lenient('are accepted: properties without a type, required without properties', () => {
  checkArgs({ properties: { a: { type: 'string' } } }, { a: 'x' });
  checkArgs({ type: 'object', required: ['a'] }, { a: 1 });
});

lenient.run();
