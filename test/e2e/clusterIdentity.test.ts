import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { startCluster, type Cluster } from '../support/cluster.js';

const PASSWORD = 'correct horse battery';

const identity = suite<{ cluster: Cluster }>('users and the catalogue on three nodes sharing one OpenSearch');

identity.before(async (ctx) => {
  ctx.cluster = await startCluster({ name: 'identity' });
});

identity.after(async (ctx) => {
  await ctx.cluster?.stop();
});

identity('three nodes answer on their own port', async ({ cluster }) => {
  assert.is(cluster.nodes.length, 3);
  const name = `op-${cluster.runId}`;
  const created = await cluster.admin(0, 'POST', '/users', { name, role: 'operator', password: PASSWORD });
  assert.is(created.status, 201, JSON.stringify(created.body));
  const token = await cluster.login(0, { username: name, password: PASSWORD });
  const users = await cluster.call(0, 'GET', '/users', { token });
  assert.is(users.status, 200, users.text);
});

identity.run();
