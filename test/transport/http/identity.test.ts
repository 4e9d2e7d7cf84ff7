import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { call, login } from '../../support/client.js';
import { journalRows, startWorld, type World } from './management.support.js';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

const Users = suite<{ w: World }>('users lifecycle');
Users.before.each(async (ctx) => {
  ctx.w = await startWorld({});
});
Users.after.each((ctx) => ctx.w.server.stop());

Users('an operator lists users without their password hashes', async ({ w }) => {
  const r = await call('GET', `${w.server.api}/users`, { token: w.operator });
  assert.is(r.status, 200);
  assert.equal(r.body.users.map((u: any) => [u.name, u.role, u.disabled]), [['audrey', 'auditor', false], ['olga', 'operator', false]]);
  assert.is(r.body.next_cursor, null);
  assert.not.match(r.text, /scrypt|password/);
  const page = await call('GET', `${w.server.api}/users?limit=1`, { token: w.operator });
  assert.equal(page.body.users.map((u: any) => u.name), ['audrey']);
  const next = await call('GET', `${w.server.api}/users?limit=1&cursor=${page.body.next_cursor}`, { token: w.operator });
  assert.equal(next.body.users.map((u: any) => u.name), ['olga']);
  assert.is((await call('GET', `${w.server.api}/users?color=red`, { token: w.operator })).status, 400);
});

Users('disabling refuses the user’s tokens at once and its logins; enabling lets it log in again', async ({ w }) => {
  assert.is((await call('GET', `${w.server.api}/commands/history`, { token: w.auditor })).status, 200);
  const r = await call('POST', `${w.server.api}/users/audrey/disable`, { token: w.operator });
  assert.is(r.status, 200);
  assert.is(r.body.disabled, true);
  assert.is((await call('GET', `${w.server.api}/commands/history`, { token: w.auditor })).status, 401);
  const refused = await call('POST', `${w.server.api}/login`, { json: { username: 'audrey', password: 'auditor-password' } });
  assert.is(refused.status, 401);
  await wait(1100); // a token issued in the second of the disable counts as issued before it
  assert.is((await call('POST', `${w.server.api}/users/audrey/enable`, { token: w.operator })).body.disabled, false);
  const token = await login(w.server.api, { username: 'audrey', password: 'auditor-password' });
  assert.is((await call('GET', `${w.server.api}/commands/history`, { token })).status, 200);
  assert.is((await call('GET', `${w.server.api}/commands/history`, { token: w.auditor })).status, 401, 'the old token stays refused');
  const rows = journalRows(w.server).filter((e) => e.type === 'UserDisabled' || e.type === 'UserEnabled');
  assert.equal(rows.map((e) => [e.type, e.actor]), [['UserDisabled', 'user:olga'], ['UserEnabled', 'user:olga']]);
});

Users('deleting a user refuses its tokens, also when the name is created again', async ({ w }) => {
  assert.is((await call('DELETE', `${w.server.api}/users/audrey`, { token: w.operator })).status, 204);
  assert.is((await call('GET', `${w.server.api}/commands/history`, { token: w.auditor })).status, 401);
  const again = await call('POST', `${w.server.api}/users`, { token: w.operator, json: { name: 'audrey', role: 'auditor', password: 'another-password' } });
  assert.is(again.status, 201);
  assert.is((await call('GET', `${w.server.api}/commands/history`, { token: w.auditor })).status, 401);
  assert.is((await call('DELETE', `${w.server.api}/users/nobody`, { token: w.operator })).status, 404);
  assert.is((await call('POST', `${w.server.api}/users/nobody/disable`, { token: w.operator })).status, 404);
});

Users('the audit trail lists user changes with actor and time, as JSON pages and as NDJSON', async ({ w }) => {
  await call('POST', `${w.server.api}/users/audrey/disable`, { token: w.operator });
  const r = await call("GET", `${w.server.api}/audit?kind=user`, { token: w.operator });
  assert.is(r.status, 200);
  assert.equal(r.body.items.map((i: any) => [i.type, i.subject, i.actor]), [
    ['UserCreated', 'olga', 'test'],
    ['UserCreated', 'audrey', 'test'],
    ['UserDisabled', 'audrey', 'user:olga'],
  ]);
  assert.type(r.body.items[0].time, 'string');
  const byActor = await call('GET', `${w.server.api}/audit?actor=olga`, { token: w.operator });
  assert.equal(byActor.body.items.map((i: any) => i.type), ['UserDisabled']);
  const nd = await call('GET', `${w.server.api}/audit?format=ndjson`, { token: w.operator });
  assert.is(nd.headers.get('content-type'), 'application/x-ndjson');
  const lines = nd.text.trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(lines.length >= 8, 'catalogue seeds and users');
  assert.ok(lines.some((l) => l.kind === 'catalog' && l.actor === 'system'));
  assert.is((await call('GET', `${w.server.api}/audit?kind=nope`, { token: w.operator })).status, 400);
});

Users.run();

const Keys = suite<{ w: World }>('API keys');
Keys.before(async (ctx) => {
  ctx.w = await startWorld({ 'agent-1': ['web'] });
});
Keys.after((ctx) => ctx.w.server.stop());

Keys('a key is shown once, works as a Bearer credential with its role, and is refused once revoked', async ({ w }) => {
  const r = await call('POST', `${w.server.api}/api-keys`, { token: w.operator, json: { name: 'ci', role: 'auditor' } });
  assert.is(r.status, 201);
  assert.match(r.body.key, /^cak_[0-9a-f]{12}_/);
  const key = r.body.key as string;
  assert.is((await call('GET', `${w.server.api}/commands/history`, { token: key })).status, 200);
  assert.is((await call('POST', `${w.server.api}/commands`, { token: key, json: { action: { name: 'restart' }, target: { type: 'all' } } })).status, 403);
  const list = await call('GET', `${w.server.api}/api-keys`, { token: w.operator });
  assert.equal(list.body.api_keys.map((k: any) => [k.id, k.name, k.role, k.revoked]), [[r.body.id, 'ci', 'auditor', false]]);
  assert.not.match(list.text, new RegExp(key.slice(17)));
  assert.not.match(JSON.stringify(journalRows(w.server)), new RegExp(key.slice(17)), 'the journal holds only the hash');
  assert.is((await call('GET', `${w.server.api}/commands/history`, { token: `${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}` })).status, 401);
  assert.is((await call('DELETE', `${w.server.api}/api-keys/${r.body.id}`, { token: w.operator })).status, 204);
  assert.is((await call('GET', `${w.server.api}/commands/history`, { token: key })).status, 401);
  assert.is((await call('DELETE', `${w.server.api}/api-keys/000000000000`, { token: w.operator })).status, 404);
});

Keys('a metrics key can scrape /metrics and nothing else', async ({ w }) => {
  const r = await call('POST', `${w.server.api}/api-keys`, { token: w.operator, json: { name: 'prometheus', role: 'metrics' } });
  const key = r.body.key as string;
  const proxied = { 'x-forwarded-for': '203.0.113.9' };
  assert.is((await call('GET', `${w.server.url}/metrics`, { token: key, headers: proxied })).status, 200, 'a remote scrape with the key');
  assert.is((await call('GET', `${w.server.url}/metrics`, { headers: proxied })).status, 401, 'a remote scrape without it');
  assert.is((await call('GET', `${w.server.api}/agents`, { token: key })).status, 403);
  assert.is((await call('GET', `${w.server.api}/journal/stats`, { token: key })).status, 403);
  assert.is((await call('POST', `${w.server.api}/api-keys`, { token: key, json: { name: 'x', role: 'operator' } })).status, 403);
  const bad = await call('POST', `${w.server.api}/api-keys`, { token: w.operator, json: { name: 'x', role: 'root' } });
  assert.is(bad.status, 400);
});

Keys.run();

const Cancel = suite<{ w: World }>('cancelling a command');
Cancel.before(async (ctx) => {
  ctx.w = await startWorld({ 'agent-1': ['web'], 'agent-2': ['web'] });
});
Cancel.after((ctx) => ctx.w.server.stop());

Cancel('open targets become cancelled, with the actor, in history; they are not offered again; a late result is 409', async ({ w }) => {
  const issued = await call('POST', `${w.server.api}/commands`, { token: w.operator, json: { action: { name: 'restart' }, target: { type: 'group', id: 'web' } } });
  assert.is(issued.status, 201);
  const id = issued.body.id;
  // agent-1 receives it (long-poll) and reports; agent-2 never polls
  const polled = await call('GET', `${w.server.api}/commands?wait=0`, { token: w.agents['agent-1']! });
  assert.equal(polled.body.commands.map((c: any) => c.id), [id]);
  assert.is((await call('POST', `${w.server.api}/commands/${id}/result`, { token: w.agents['agent-1']!, json: { status: 'success', code: 0, message: 'restarted' } })).status, 204);
  const r = await call('POST', `${w.server.api}/commands/${id}/cancel`, { token: w.operator });
  assert.is(r.status, 200);
  assert.equal(r.body.targets.map((t: any) => [t.agent, t.state]), [['agent-1', 'success'], ['agent-2', 'cancelled']]);
  assert.is(r.body.counts.cancelled, 1);
  const none = await call('GET', `${w.server.api}/commands?wait=0`, { token: w.agents['agent-2']! });
  assert.equal(none.body.commands, []);
  const late = await call('POST', `${w.server.api}/commands/${id}/result`, { token: w.agents['agent-2']!, json: { status: 'success' } });
  assert.is(late.status, 409);
  const h = await call('GET', `${w.server.api}/commands/history?command=${id}`, { token: w.auditor });
  const items = h.body.items.map((i: any) => [i.agent, i.state, i.actor]);
  assert.ok(items.some((i: any) => i[0] === 'agent-2' && i[1] === 'cancelled' && i[2] === 'user:olga'), JSON.stringify(items));
  const success = h.body.items.find((i: any) => i.state === 'success');
  assert.is(success.code, 0);
  assert.is(success.message, 'restarted');
  assert.is((await call('POST', `${w.server.api}/commands/nope/cancel`, { token: w.operator })).status, 404);
  assert.is((await call('POST', `${w.server.api}/commands/${id}/cancel`, { token: w.auditor })).status, 403);
});

Cancel('an upgrade naming a package the store does not hold is 400', async ({ w }) => {
  const r = await call('POST', `${w.server.api}/commands`, { token: w.operator, json: { action: { name: 'upgrade', args: { package: 'nope.deb' } }, target: { type: 'all' } } });
  assert.is(r.status, 400);
  assert.equal(r.body.errors.map((e: any) => e.field), ['action.args.package']);
});

Cancel('agents are filtered by status, group and name or uuid prefix, with counts and unknown filters refused', async ({ w }) => {
  await call('GET', `${w.server.api}/commands?wait=0`, { token: w.agents['agent-1']! });
  const all = await call('GET', `${w.server.api}/agents`, { token: w.auditor });
  assert.equal(all.body.counts, { active: 2, disconnected: 0, never_connected: 0 });
  const q = await call('GET', `${w.server.api}/agents?q=agent-2`, { token: w.auditor });
  assert.equal(q.body.agents.map((a: any) => a.uuid), ['agent-2']);
  const sorted = await call('GET', `${w.server.api}/agents?sort=-uuid&limit=1`, { token: w.auditor });
  assert.equal(sorted.body.agents.map((a: any) => a.uuid), ['agent-2']);
  const next = await call('GET', `${w.server.api}/agents?sort=-uuid&limit=1&cursor=${sorted.body.next_cursor}`, { token: w.auditor });
  assert.equal(next.body.agents.map((a: any) => a.uuid), ['agent-1']);
  assert.is(next.body.next_cursor, null);
  const never = await call('GET', `${w.server.api}/agents?status=never_connected`, { token: w.auditor });
  assert.equal(never.body.agents, []);
  const os = await call('GET', `${w.server.api}/agents?os=linux`, { token: w.auditor });
  assert.equal(os.body.agents, [], 'no agent reported its host yet');
  assert.is((await call('GET', `${w.server.api}/agents?colour=red`, { token: w.auditor })).status, 400);
  assert.is((await call('GET', `${w.server.api}/agents?cursor=bm9wZQ`, { token: w.auditor })).status, 400);
});

Cancel.run();
