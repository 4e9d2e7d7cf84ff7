import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ACTIVE_WINDOW_MS, agentView, type AgentRow } from '../../../src/projections/agentsReads.js';
import { call, login, statelessBatch } from '../../support/client.js';
import { openSse } from '../../support/sse.js';
import { AGENT_KEY } from '../../support/server.js';
import { journalRows, startWorld, type World } from './management.support.js';

const row = (over: Partial<AgentRow> = {}): AgentRow => ({
  uuid: 'a',
  name: 'a',
  key_hash: 'scrypt$secret',
  groups: '["g"]',
  registered_at: 0,
  last_seen: null,
  last_event_seq: null,
  ...over,
});

const Status = suite('the status of an agent');

Status('never seen and not connected is never_connected', () => {
  assert.is(agentView(row(), { connected: false, seenAt: undefined }, 1e12).status, 'never_connected');
});
Status('an open stream is active, whenever it was last seen', () => {
  assert.is(agentView(row(), { connected: true, seenAt: undefined }, 1e12).status, 'active');
});
Status('seen within the window is active, before it disconnected', () => {
  const now = 1e12;
  assert.is(agentView(row({ last_seen: now - ACTIVE_WINDOW_MS + 1 }), { connected: false, seenAt: undefined }, now).status, 'active');
  assert.is(agentView(row({ last_seen: now - ACTIVE_WINDOW_MS - 1 }), { connected: false, seenAt: undefined }, now).status, 'disconnected');
  assert.is(agentView(row({ last_seen: 1 }), { connected: false, seenAt: now }, now).status, 'active');
});
Status('the view never carries the key hash', () => {
  assert.not.ok(JSON.stringify(agentView(row(), { connected: false, seenAt: undefined }, 0)).includes('scrypt'));
});

const Agents = suite<{ w: World }>('listing agents');
Agents.before(async (ctx) => {
  const agents: Record<string, string[]> = {};
  for (let i = 1; i <= 7; i++) agents[`agent-${i}`] = i % 2 ? ['odd', 'all'] : ['even', 'all'];
  ctx.w = await startWorld(agents);
});
Agents.after((ctx) => ctx.w.server.stop());

Agents('operators and auditors list agents with status, groups and no key hash', async ({ w }) => {
  for (const token of [w.operator, w.auditor]) {
    const r = await call('GET', `${w.server.api}/agents`, { token });
    assert.is(r.status, 200);
    assert.is(r.body.agents.length, 7);
    assert.is(r.body.next_cursor, null);
    const a = r.body.agents[0];
    assert.equal(Object.keys(a).sort(), ['connected', 'groups', 'host', 'last_event_seq', 'last_seen', 'name', 'registered_at', 'status', 'type', 'uuid', 'version']);
    assert.equal([a.type, a.version, a.host], [null, null, null], 'no host facts for an agent registered without them');
    assert.equal(a.groups, ['odd', 'all']);
    assert.not.match(r.text, /scrypt|key_hash|keyHash/);
  }
});

Agents('pages follow the cursor without gaps or repeats', async ({ w }) => {
  const seen: string[] = [];
  let cursor: string | null = '';
  let pages = 0;
  while (cursor !== null) {
    const r: { status: number; body: { agents: Array<{ uuid: string }>; next_cursor: string | null } } = await call(
      'GET',
      `${w.server.api}/agents?limit=3${cursor ? `&cursor=${cursor}` : ''}`,
      { token: w.operator },
    );
    assert.is(r.status, 200);
    seen.push(...r.body.agents.map((a) => a.uuid));
    cursor = r.body.next_cursor;
    pages += 1;
  }
  assert.is(pages, 3);
  assert.equal(seen, ['agent-1', 'agent-2', 'agent-3', 'agent-4', 'agent-5', 'agent-6', 'agent-7']);
});

Agents('?group= lists only its members, paginated too', async ({ w }) => {
  const r = await call('GET', `${w.server.api}/agents?group=even&limit=2`, { token: w.operator });
  assert.equal(r.body.agents.map((a: { uuid: string }) => a.uuid), ['agent-2', 'agent-4']);
  const next = await call('GET', `${w.server.api}/agents?group=even&limit=2&cursor=${r.body.next_cursor}`, { token: w.operator });
  assert.equal(next.body.agents.map((a: { uuid: string }) => a.uuid), ['agent-6']);
  assert.is(next.body.next_cursor, null);
});

Agents('bad limits, cursors and groups are 400; agents may not list', async ({ w }) => {
  for (const q of ['limit=0', 'limit=1001', 'limit=x', 'cursor=%%%', 'cursor=!!', 'group=..%2Fx']) {
    const r = await call('GET', `${w.server.api}/agents?${q}`, { token: w.operator });
    assert.is(r.status, 400, q);
    assert.is(r.headers.get('content-type'), 'application/problem+json');
  }
  assert.is((await call('GET', `${w.server.api}/agents`, { token: w.agents['agent-1'] })).status, 403);
  assert.is((await call('GET', `${w.server.api}/agents`)).status, 401);
});

Agents('status follows activity: events and open streams make an agent active', async ({ w }) => {
  const before = await call('GET', `${w.server.api}/agents/agent-3`, { token: w.operator });
  assert.is(before.status, 200);
  // the login in setup went through /login, which does not authenticate with a token: never seen yet
  assert.is(before.body.status, 'never_connected');
  assert.is(before.body.connected, false);
  const sent = await call('POST', `${w.server.api}/events/stateless`, { token: w.agents['agent-3'], body: statelessBatch(1), type: 'application/x-ndjson' });
  assert.is(sent.status, 202);
  const after = await call('GET', `${w.server.api}/agents/agent-3`, { token: w.operator });
  assert.is(after.body.status, 'active');
  assert.is(after.body.last_event_seq, sent.body.seq);
  assert.ok(after.body.last_seen);
  const stream = await openSse(`${w.server.api}/commands`, { token: w.agents['agent-4'] });
  try {
    const c = await call('GET', `${w.server.api}/agents/agent-4`, { token: w.auditor });
    assert.is(c.body.connected, true);
    assert.is(c.body.status, 'active');
  } finally {
    stream.close();
  }
});

Agents('an unknown uuid is 404; a malformed one 400', async ({ w }) => {
  assert.is((await call('GET', `${w.server.api}/agents/nobody`, { token: w.operator })).status, 404);
  assert.is((await call('GET', `${w.server.api}/agents/${'%2e'.repeat(3)}`, { token: w.operator })).status, 400);
  assert.is((await call('DELETE', `${w.server.api}/agents/nobody`, { token: w.operator })).status, 404);
});

const Delete = suite<{ w: World }>('deleting an agent');
Delete.before.each(async (ctx) => {
  ctx.w = await startWorld({ 'agent-1': ['g'], 'agent-2': ['g'] });
});
Delete.after.each((ctx) => ctx.w.server.stop());

Delete('revokes its tokens at once, closes its stream, and is journaled', async ({ w }) => {
  const token = w.agents['agent-1']!;
  const stream = await openSse(`${w.server.api}/commands`, { token });
  assert.is((await call('GET', `${w.server.api}/configuration`, { token })).status, 200);
  const r = await call('DELETE', `${w.server.api}/agents/agent-1`, { token: w.operator });
  assert.is(r.status, 204);
  await stream.ended;
  assert.is((await call('GET', `${w.server.api}/configuration`, { token })).status, 401);
  const events = await call('POST', `${w.server.api}/events/stateless`, { token, body: statelessBatch(1), type: 'application/x-ndjson' });
  assert.is(events.status, 401);
  assert.is((await call('GET', `${w.server.api}/agents/agent-1`, { token: w.operator })).status, 404);
  const del = journalRows(w.server).filter((e) => e.type === 'AgentDeleted');
  assert.is(del.length, 1);
  assert.is(del[0]!.actor, 'user:olga');
  // the other agent is untouched
  assert.is((await call('GET', `${w.server.api}/configuration`, { token: w.agents['agent-2'] })).status, 200);
});

Delete('a re-registered agent logs in again, and its old token stays revoked', async ({ w }) => {
  const old = w.agents['agent-1']!;
  await call('DELETE', `${w.server.api}/agents/agent-1`, { token: w.operator });
  // tokens carry whole seconds: let the clock pass the revocation before the new token is issued
  await new Promise((r) => setTimeout(r, 1100));
  const again = await call('POST', `${w.server.api}/agents`, { token: w.operator, json: { uuid: 'agent-1', key: AGENT_KEY } });
  assert.is(again.status, 201);
  const fresh = await login(w.server.api, { uuid: 'agent-1', key: AGENT_KEY });
  assert.is((await call('GET', `${w.server.api}/configuration`, { token: fresh })).status, 200);
  assert.is((await call('GET', `${w.server.api}/configuration`, { token: old })).status, 401);
});

Delete('auditors and agents cannot delete', async ({ w }) => {
  assert.is((await call('DELETE', `${w.server.api}/agents/agent-2`, { token: w.auditor })).status, 403);
  assert.is((await call('DELETE', `${w.server.api}/agents/agent-2`, { token: w.agents['agent-1'] })).status, 403);
});

Status.run();
Agents.run();
Delete.run();
