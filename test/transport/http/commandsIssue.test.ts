import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { adminCall, call, login } from '../../support/client.js';
import { AGENT_KEY } from '../../support/server.js';
import { commandsWorld, journalRows, type CommandsWorld } from '../../commands/fixtures.js';

const COMMAND_TYPES = ['CommandIssued', 'CommandDelivered', 'CommandSucceeded', 'CommandFailed', 'CommandExpired', 'AgentGroupsChanged'];


interface Ctx {
  w: CommandsWorld;
  agents: string[];
}

const issuing = suite<Ctx>('POST /commands');

issuing.before.each(async (ctx) => {
  ctx.w = await commandsWorld();
  ctx.agents = await ctx.w.addAgents('agent', 3, ['web']);
});
issuing.after.each(async (ctx) => {
  await ctx.w.stop();
});

issuing('an operator issues a command to one agent and it is journaled with the operator as actor', async ({ w, agents }) => {
  const r = await w.issue({ action: { name: 'restart', args: {} }, target: { type: 'agent', id: agents[0] } });
  assert.is(r.status, 201);
  assert.is(r.body.targets, 1);
  assert.type(r.body.id, 'string');
  const rows = journalRows(w.journal, ['CommandIssued']);
  assert.is(rows.length, 1);
  assert.is(rows[0]!.actor, 'user:olivia');
  assert.equal(rows[0]!.data.agents, [agents[0]]);
  assert.is(rows[0]!.data.id, r.body.id);
});

issuing('command ids sort in the order the commands were issued', async ({ w, agents }) => {
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) {
    const r = await w.issue({ action: { name: 'refresh' }, target: { type: 'agent', id: agents[1] } });
    assert.is(r.status, 201);
    ids.push(r.body.id);
  }
  assert.equal([...ids].sort(), ids);
  assert.is(new Set(ids).size, 5);
});

issuing('a group target expands to exactly its members; all targets every registered agent', async ({ w, agents }) => {
  const others = await w.addAgents('db', 2, ['db']);
  const g = await w.issue({ action: { name: 'restart' }, target: { type: 'group', id: 'db' } });
  assert.is(g.status, 201);
  assert.is(g.body.targets, 2);
  const all = await w.issue({ action: { name: 'refresh' }, target: { type: 'all' } });
  assert.is(all.body.targets, agents.length + others.length);
  const rows = journalRows(w.journal, ['CommandIssued']);
  assert.equal(rows[0]!.data.agents, others);
  assert.equal([...rows[1]!.data.agents].sort(), [...agents, ...others].sort());
});

issuing('an unknown action is 404 problem+json and writes nothing', async ({ w, agents }) => {
  const r = await w.issue({ action: { name: 'format-disk' }, target: { type: 'agent', id: agents[0] } });
  assert.is(r.status, 404);
  assert.match(r.headers.get('content-type') ?? '', 'application/problem+json');
  assert.equal(journalRows(w.journal, COMMAND_TYPES), []);
});

issuing('args that do not match the schema are 400 naming the field, and write nothing', async ({ w, agents }) => {
  const missing = await w.issue({ action: { name: 'upgrade', args: { version: '4.9' } }, target: { type: 'agent', id: agents[0] } });
  assert.is(missing.status, 400);
  assert.match(missing.headers.get('content-type') ?? '', 'application/problem+json');
  assert.ok(missing.body.errors.some((e: { field: string }) => e.field === 'action.args.package'), missing.text);
  const wrongType = await w.issue({ action: { name: 'set-group', args: { groups: ['ok', 7] } }, target: { type: 'agent', id: agents[0] } });
  assert.is(wrongType.status, 400);
  assert.ok(wrongType.body.errors.some((e: { field: string }) => e.field === 'action.args.groups.1'), wrongType.text);
  assert.equal(journalRows(w.journal, COMMAND_TYPES), []);
});

issuing('a malformed body, a target type the action does not allow, an unknown agent and an empty group are 400', async ({ w }) => {
  const cases = [
    { action: { name: 'restart' } },
    { action: { name: 'set-group', args: { groups: ['a'] } }, target: { type: 'all' } },
    { action: { name: 'restart' }, target: { type: 'agent', id: 'nobody' } },
    { action: { name: 'restart' }, target: { type: 'agent' } },
    { action: { name: 'restart' }, target: { type: 'group', id: 'empty' } },
    { action: { name: 'restart' }, target: { type: 'all' }, timeout: 0 },
  ];
  for (const body of cases) {
    const r = await w.issue(body);
    assert.is(r.status, 400, JSON.stringify(body));
    assert.match(r.headers.get('content-type') ?? '', 'application/problem+json');
  }
  assert.equal(journalRows(w.journal, COMMAND_TYPES), []);
});

issuing('an agent cannot issue a command (403) and an auditor cannot either (403)', async ({ w, agents }) => {
  const body = { action: { name: 'restart' }, target: { type: 'agent', id: agents[0] } };
  const agentToken = await login(w.api, { uuid: agents[0]!, key: AGENT_KEY });
  const byAgent = await w.issue(body, agentToken);
  assert.is(byAgent.status, 403);
  const byAuditor = await w.issue(body, w.auditor);
  assert.is(byAuditor.status, 403);
  const noToken = await call('POST', `${w.api}/commands`, { json: body });
  assert.is(noToken.status, 401);
  assert.equal(journalRows(w.journal, COMMAND_TYPES), []);
});

issuing('the admin socket issues commands without a token, journaled as admin-socket', async ({ w, agents }) => {
  const r = await adminCall(w.server.config.adminSocket, 'POST', '/commands', {
    action: { name: 'fetch-config' },
    target: { type: 'group', id: 'web' },
  });
  assert.is(r.status, 201);
  assert.is(r.body.targets, agents.length);
  const rows = journalRows(w.journal, ['CommandIssued']);
  assert.is(rows[0]!.actor, 'admin-socket');
});

issuing('set-group replaces the target agent’s groups when the command is issued', async ({ w, agents }) => {
  const r = await w.issue({ action: { name: 'set-group', args: { groups: ['db', 'eu'] } }, target: { type: 'agent', id: agents[0] } });
  assert.is(r.status, 201);
  const changed = journalRows(w.journal, ['AgentGroupsChanged']);
  assert.equal(changed.map((e) => e.data), [{ uuid: agents[0], groups: ['db', 'eu'] }]);
  const g = await w.issue({ action: { name: 'restart' }, target: { type: 'group', id: 'eu' } });
  assert.is(g.body.targets, 1);
});

issuing.run();

const catalog = suite<Ctx>('the catalogue');

catalog.before.each(async (ctx) => {
  ctx.w = await commandsWorld();
  ctx.agents = await ctx.w.addAgents('agent', 1);
});
catalog.after.each(async (ctx) => {
  await ctx.w.stop();
});

catalog('it is seeded once with restart, fetch-config, set-group, upgrade and refresh', async ({ w }) => {
  const r = await call('GET', `${w.api}/catalog`, { token: w.operator });
  assert.is(r.status, 200);
  assert.equal(r.body.items.map((i: { name: string }) => i.name), ['fetch-config', 'refresh', 'restart', 'set-group', 'upgrade']);
  const upgrade = r.body.items.find((i: { name: string }) => i.name === 'upgrade');
  assert.equal(upgrade.args.required, ['package']);
  assert.is(journalRows(w.journal, ['CatalogEntryPut']).length, 5);
});

catalog('an operator defines a new action, which is journaled and then usable', async ({ w, agents }) => {
  const def = {
    description: 'Collect a file',
    args: { type: 'object', required: ['path'], properties: { path: { type: 'string', minLength: 1 } }, additionalProperties: false },
    default_timeout: 120,
    target_types: ['agent'],
  };
  const put = await call('PUT', `${w.api}/catalog/collect-file`, { token: w.operator, json: def });
  assert.is(put.status, 201);
  assert.is(put.body.default_timeout, 120);
  const again = await call('PUT', `${w.api}/catalog/collect-file`, { token: w.operator, json: { ...def, default_timeout: 60 } });
  assert.is(again.status, 200);
  const entries = journalRows(w.journal, ['CatalogEntryPut']).filter((e) => e.data.name === 'collect-file');
  assert.equal(entries.map((e) => [e.actor, e.data.defaultTimeout]), [['user:olivia', 120], ['user:olivia', 60]]);
  const bad = await w.issue({ action: { name: 'collect-file', args: {} }, target: { type: 'agent', id: agents[0] } });
  assert.is(bad.status, 400);
  assert.ok(bad.body.errors.some((e: { field: string }) => e.field === 'action.args.path'));
  const ok = await w.issue({ action: { name: 'collect-file', args: { path: '/etc/hosts' } }, target: { type: 'agent', id: agents[0] } });
  assert.is(ok.status, 201);
  const issued = journalRows(w.journal, ['CommandIssued'])[0]!;
  assert.is(issued.data.expiresAt - issued.data.issuedAt, 60_000);
});

catalog('an invalid JSON Schema is rejected with 400 and nothing is journaled', async ({ w }) => {
  const before = journalRows(w.journal, ['CatalogEntryPut']).length;
  for (const args of [{ type: 'objekt' }, { type: 'object', properties: { a: { minLength: 'two' } } }, { type: 'object', frobnicate: true }]) {
    const r = await call('PUT', `${w.api}/catalog/broken`, {
      token: w.operator,
      json: { description: 'x', args, default_timeout: 10, target_types: ['agent'] },
    });
    assert.is(r.status, 400, JSON.stringify(args));
    assert.match(r.headers.get('content-type') ?? '', 'application/problem+json');
  }
  assert.is(journalRows(w.journal, ['CatalogEntryPut']).length, before);
});

catalog('auditors and agents cannot change the catalogue (403)', async ({ w, agents }) => {
  const def = { description: 'x', args: { type: 'object' }, default_timeout: 10, target_types: ['agent'] };
  const byAuditor = await call('PUT', `${w.api}/catalog/x`, { token: w.auditor, json: def });
  assert.is(byAuditor.status, 403);
  const byAgent = await call('PUT', `${w.api}/catalog/x`, { token: w.agentToken(agents[0]!), json: def });
  assert.is(byAgent.status, 403);
  assert.is(journalRows(w.journal, ['CatalogEntryPut']).length, 5);
});

catalog.run();
