import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { statesIndex } from '../../../src/indexer/templates.js';
import { call, ndjson } from '../../support/client.js';
import { commandsWorld, journalRows, PASSWORD, type CommandsWorld } from '../../commands/fixtures.js';

/**
 * What the existing Wazuh agent (../shared/wazuh-agent, README) sends and expects, exactly as it
 * sends it: enrollment outside /api/v1, 401 messages it acts on, NDJSON as application/json,
 * command results `{"command":{"result":{code,message}}}`. The real binary runs in test/e2e/realAgent.test.ts.
 */
interface Ctx {
  w: CommandsWorld;
}

const UUID = '0b9d3a52-6f5e-4c1a-9a53-2f0c3c1d7e10';
const KEY = 'Zq3kP9xW2mN7vB4tR8yL1cH6jD5fG0sA';
const HOST = { architecture: 'x86_64', hostname: 'vm-1', ip: ['192.0.2.2'], os: { name: 'Debian GNU/Linux', type: 'Linux', version: '12 (bookworm)' } };
const basic = (user: string, password: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` });

async function enrollToken(w: CommandsWorld): Promise<string> {
  const r = await call('POST', `${w.server.url}/security/user/authenticate`, { headers: basic('olivia', PASSWORD) });
  assert.is(r.status, 200, r.text);
  return r.body.data.token as string;
}
const enroll = (w: CommandsWorld, token: string, body: unknown) => call('POST', `${w.server.url}/agents`, { token, json: body });

const Enrollment = suite<Ctx>('enrollment as the Wazuh agent does it (--enroll)');
Enrollment.before.each(async (ctx) => {
  ctx.w = await commandsWorld();
});
Enrollment.after.each((ctx) => ctx.w.stop());

Enrollment('an operator authenticates with HTTP Basic, then POST /agents registers the agent (201) with its host facts', async ({ w }) => {
  const token = await enrollToken(w);
  const r = await enroll(w, token, { id: UUID, key: KEY, name: 'vm-1', type: 'Endpoint', version: 'v6.0.0', host: HOST });
  assert.is(r.status, 201, r.text);
  assert.is(r.body.data.id, UUID);
  const listed = await call('GET', `${w.api}/agents/${UUID}`, { token: w.operator });
  assert.equal([listed.body.name, listed.body.type, listed.body.version], ['vm-1', 'Endpoint', 'v6.0.0']);
  assert.equal(listed.body.host, { hostname: 'vm-1', architecture: 'x86_64', ip: ['192.0.2.2'], os: { name: 'Debian GNU/Linux', version: '12 (bookworm)', type: 'Linux' } });
  const login = await call('POST', `${w.api}/authentication`, { json: { uuid: UUID, key: KEY } });
  assert.is(login.status, 200, 'the agent logs in with the uuid and key it generated');
  const [entry] = journalRows(w.journal, ['AgentRegistered']).filter((e) => e.data.uuid === UUID);
  assert.equal([entry!.actor, entry!.data.type, entry!.data.host.hostname], ['user:olivia', 'Endpoint', 'vm-1'], 'the facts are journaled');
});

Enrollment('the same uuid and key again is 201 (a retried enrollment); another key for it is 409', async ({ w }) => {
  const token = await enrollToken(w);
  assert.is((await enroll(w, token, { id: UUID, key: KEY, name: 'vm-1', host: HOST })).status, 201);
  const again = await enroll(w, token, { id: UUID, key: KEY, name: 'vm-1', host: { ...HOST, hostname: 'vm-1b' } });
  assert.is(again.status, 201, again.text);
  assert.is(journalRows(w.journal, ['AgentRegistered']).filter((e) => e.data.uuid === UUID).length, 1);
  const host = (await call('GET', `${w.api}/agents/${UUID}`, { token: w.operator })).body.host;
  assert.is(host.hostname, 'vm-1b', 'the changed facts are kept');
  const other = await enroll(w, token, { id: UUID, key: KEY.replace('Z', 'Y'), name: 'vm-1' });
  assert.is(other.status, 409, other.text);
  assert.is(other.headers.get('content-type'), 'application/problem+json');
});

Enrollment('a bad password is 401, a non-operator 403, no Basic header 401, a malformed key 400, an auditor token 403', async ({ w }) => {
  const url = `${w.server.url}/security/user/authenticate`;
  const wrong = await call('POST', url, { headers: basic('olivia', 'not the password') });
  assert.is(wrong.status, 401);
  assert.is(wrong.headers.get('content-type'), 'application/problem+json');
  assert.is((await call('POST', url, { headers: basic('audrey', PASSWORD) })).status, 403);
  assert.is((await call('POST', url)).status, 401);
  assert.is((await call('POST', url, { headers: { authorization: 'Basic !!!' } })).status, 401);
  assert.is((await call('POST', url, { headers: { authorization: `Basic ${Buffer.from('no-colon').toString('base64')}` } })).status, 401);
  const token = await enrollToken(w);
  const bad = await enroll(w, token, { id: UUID, key: 'short', name: 'vm-1' });
  assert.is(bad.status, 400);
  assert.match(JSON.stringify(bad.body.errors), /key/);
  assert.is((await enroll(w, w.auditor, { id: UUID, key: KEY })).status, 403);
  assert.is((await enroll(w, '', { id: UUID, key: KEY })).status, 401);
  assert.equal(journalRows(w.journal, ['AgentRegistered']).filter((e) => e.data.uuid === UUID), []);
});

Enrollment('a wrong key gets message "Invalid key", an unknown uuid "Agent does not exist", on /authentication and /login', async ({ w }) => {
  await w.addAgents('known', 1);
  for (const path of ['/authentication', '/login']) {
    const wrong = await call('POST', `${w.api}${path}`, { json: { uuid: 'known-0', key: KEY } });
    assert.equal([wrong.status, wrong.body.message, wrong.headers.get('content-type')], [401, 'Invalid key', 'application/problem+json'], path);
    const unknown = await call('POST', `${w.api}${path}`, { json: { uuid: 'nobody', key: KEY } });
    assert.equal([unknown.status, unknown.body.message], [401, 'Agent does not exist'], path);
  }
});

Enrollment.run();

const Agent = suite<Ctx & { token: string; uuid: string }>('events and command results as the Wazuh agent sends them');
Agent.before.each(async (ctx) => {
  ctx.w = await commandsWorld();
  ctx.uuid = (await ctx.w.addAgents('wa', 1))[0]!;
  ctx.token = ctx.w.agentToken(ctx.uuid);
});
Agent.after.each((ctx) => ctx.w.stop());

const META = { agent: { id: 'x', name: 'vm-1', type: 'Endpoint', version: 'v6.0.0', host: HOST, groups: [] } };
const result = (ctx: Ctx & { token: string }, id: string, code: number, message: string) =>
  call('POST', `${ctx.w.api}/events/stateful?wait=0`, {
    token: ctx.token,
    type: 'application/json',
    body: ndjson([META, { module: 'command', id, operation: 'update' }, { command: { result: { code, message } } }]),
  });

Agent('codes 0, 1, 3 and 4 end the target success or failure with code and message; 2 leaves it delivered', async (ctx) => {
  const { w, uuid } = ctx;
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) ids.push((await w.issue({ action: { name: 'restart' }, target: { type: 'agent', id: uuid } })).body.id);
  const polled = await call('GET', `${w.api}/commands?wait=0`, { token: ctx.token });
  assert.equal(polled.body.commands.map((c: any) => c.document_id), ids);
  const messages = ['done', 'broke', 'working', 'Command timed out', 'who knows'];
  for (let code = 0; code < 5; code++) {
    const r = await result(ctx, ids[code]!, code, messages[code]!);
    assert.is(r.status, 202, r.text);
  }
  const states = [];
  for (const id of ids) states.push((await call('GET', `${w.api}/commands/${id}`, { token: w.operator })).body.targets[0]);
  assert.equal(states.map((t: any) => [t.state, t.code, t.message]), [
    ['success', 0, 'done'],
    ['failure', 1, 'broke'],
    ['delivered', undefined, undefined],
    ['failure', 3, 'Command timed out'],
    ['failure', 4, 'who knows'],
  ]);
  assert.equal(states[3].data, { timeout: true });
  const history = await call('GET', `${w.api}/commands/history?command=${ids[3]}`, { token: w.auditor });
  const last = history.body.items.at(-1);
  assert.equal([last.state, last.code, last.message], ['failure', 3, 'Command timed out']);
  // 2 then 0: in progress, then the outcome
  assert.is((await result(ctx, ids[2]!, 0, 'finally')).status, 202);
  assert.is((await call('GET', `${w.api}/commands/${ids[2]}`, { token: w.operator })).body.targets[0].state, 'success');
});

Agent('a second or late result in the agent shape is answered 2xx and not recorded (the agent would resend it forever)', async (ctx) => {
  const { w, uuid } = ctx;
  const { body } = await w.issue({ action: { name: 'restart' }, target: { type: 'agent', id: uuid } });
  assert.is((await result(ctx, body.id, 0, 'ok')).status, 202);
  assert.is((await result(ctx, body.id, 1, "Agent's database failure")).status, 202);
  assert.is((await result(ctx, 'no-such-command', 0, 'ok')).status, 202);
  const t = (await call('GET', `${w.api}/commands/${body.id}`, { token: w.operator })).body.targets[0];
  assert.equal([t.state, t.message], ['success', 'ok']);
  assert.is(journalRows(w.journal, ['CommandSucceeded', 'CommandFailed']).length, 1);
  // the {status} shape keeps its strict answer
  const strict = await call('POST', `${w.api}/events/stateful?wait=0`, {
    token: ctx.token,
    type: 'application/x-ndjson',
    body: ndjson([META, { module: 'command', id: body.id, operation: 'update' }, { status: 'failure' }]),
  });
  assert.is(strict.status, 409);
});

Agent('the agent line of event batches updates the host facts, journaling only changes', async (ctx) => {
  const { w, uuid } = ctx;
  const batch = (meta: unknown) =>
    call('POST', `${w.api}/events/stateless`, { token: ctx.token, type: 'application/json', body: ndjson([meta, { module: 'logcollector', collector: 'file' }, { log: 'x' }]) });
  assert.is((await batch(META)).status, 202);
  assert.is((await batch(META)).status, 202);
  assert.is(journalRows(w.journal, ['AgentFactsReported']).length, 1);
  const a = (await call('GET', `${w.api}/agents/${uuid}`, { token: w.operator })).body;
  assert.equal([a.type, a.version, a.host.hostname, a.host.ip], ['Endpoint', 'v6.0.0', 'vm-1', ['192.0.2.2']]);
  assert.is((await batch({ agent: { ...META.agent, version: 'v6.0.1' } })).status, 202);
  assert.is((await call('GET', `${w.api}/agents/${uuid}`, { token: w.operator })).body.version, 'v6.0.1');
  assert.is(journalRows(w.journal, ['AgentFactsReported']).length, 2);
  assert.is((await batch({ agent: { name: 'no facts' } })).status, 202, 'a line without facts changes nothing');
  assert.is((await batch({ agent: { host: 'not an object' } })).status, 202, 'bad facts are ignored, the batch is not');
  assert.is(journalRows(w.journal, ['AgentFactsReported']).length, 2);
});

Agent.run();

const Indices = suite('stateful index names');
Indices('are those of the platform: inventory per collector, fim, sca, vulnerabilities', () => {
  assert.is(statesIndex('inventory', 'packages'), 'wazuh-states-inventory-packages');
  assert.is(statesIndex('inventory', 'Hot Fixes'), 'wazuh-states-inventory-hot-fixes');
  assert.is(statesIndex('inventory'), 'wazuh-states-inventory');
  assert.is(statesIndex('fim', 'file'), 'wazuh-states-fim');
  assert.is(statesIndex('sca', 'policy'), 'wazuh-states-sca');
  assert.is(statesIndex('vulnerability'), 'wazuh-states-vulnerabilities');
  assert.is(statesIndex('vulnerabilities'), 'wazuh-states-vulnerabilities');
  assert.is(statesIndex('Custom.Module'), 'wazuh-states-custom-module');
});
Indices.run();
