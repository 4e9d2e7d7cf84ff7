import * as assert from 'uvu/assert';
import { projectionSuite } from '../support/projections.js';

const users = projectionSuite('users projection');

users('given a user created and created again, then one row holds the latest role and hash', async (ctx) => {
  await ctx.given(
    { type: 'UserCreated', stream: 'olga', actor: 'cli', data: { name: 'olga', role: 'operator', passwordHash: 'h1' } },
    { type: 'UserCreated', stream: 'ali', actor: 'cli', data: { name: 'ali', role: 'auditor', passwordHash: 'h2' } },
    { type: 'UserCreated', stream: 'olga', actor: 'cli', data: { name: 'olga', role: 'auditor', passwordHash: 'h3' } },
  );
  assert.equal(ctx.rows('SELECT name, role, password_hash FROM users ORDER BY name'), [
    { name: 'ali', role: 'auditor', password_hash: 'h2' },
    { name: 'olga', role: 'auditor', password_hash: 'h3' },
  ]);
});

users.run();
