import * as assert from 'uvu/assert';
import type { Entry } from '../../src/journal/entries.js';
import { projectionSuite } from '../support/projections.js';

const registered = (uuid: string, groups: string[]): Entry => ({
  type: 'AgentRegistered', stream: uuid, actor: 'cli', data: { uuid, name: `name-${uuid}`, groups, keyHash: 'hash' },
});
const agents = projectionSuite('agents projection');
const rowsOf = (ctx: { rows(sql: string): unknown[] }) => ({
  agents: ctx.rows('SELECT uuid, name, key_hash, groups, registered_seq, last_event_seq FROM agents ORDER BY uuid'),
  groups: ctx.rows('SELECT agent, grp FROM agent_groups ORDER BY agent, grp'),
  revoked: ctx.rows('SELECT uuid FROM revoked_agents ORDER BY uuid'),
});

agents('given an agent registered with groups, then it has a row and one membership per group', async (ctx) => {
  await ctx.given(registered('a-1', ['web', 'linux']));
  assert.equal(rowsOf(ctx), {
    agents: [{ uuid: 'a-1', name: 'name-a-1', key_hash: 'hash', groups: '["web","linux"]', registered_seq: 1, last_event_seq: null }],
    groups: [{ agent: 'a-1', grp: 'linux' }, { agent: 'a-1', grp: 'web' }],
    revoked: [],
  });
});

agents('given its groups changed and events received, then the groups are replaced and the last event seq moves', async (ctx) => {
  await ctx.given(
    registered('a-1', ['web']),
    { type: 'AgentGroupsChanged', stream: 'a-1', actor: 'user:olga', data: { uuid: 'a-1', groups: ['db'] } },
    { type: 'StatelessEventsReceived', stream: 'a-1', actor: 'agent:a-1', data: { agent: 'a-1', events: 2 } },
  );
  const r = rowsOf(ctx);
  assert.equal(r.agents, [{ uuid: 'a-1', name: 'name-a-1', key_hash: 'hash', groups: '["db"]', registered_seq: 1, last_event_seq: 3 }]);
  assert.equal(r.groups, [{ agent: 'a-1', grp: 'db' }]);
});

agents('given an agent deleted, then its rows are gone and its tokens revoked, also after it registers again', async (ctx) => {
  await ctx.given(registered('a-1', ['web']), registered('a-2', []), { type: 'AgentDeleted', stream: 'a-1', actor: 'cli', data: { uuid: 'a-1' } });
  assert.equal(rowsOf(ctx), {
    agents: [{ uuid: 'a-2', name: 'name-a-2', key_hash: 'hash', groups: '[]', registered_seq: 2, last_event_seq: null }],
    groups: [],
    revoked: [{ uuid: 'a-1' }],
  });
  await ctx.given(registered('a-1', []));
  assert.equal(rowsOf(ctx).revoked, [{ uuid: 'a-1' }]);
});

agents.run();
