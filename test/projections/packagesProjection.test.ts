import * as assert from 'uvu/assert';
import type { Entry } from '../../src/journal/entries.js';
import { projectionSuite } from '../support/projections.js';

const uploaded = (name: string, size: number, sha256: string): Entry => ({
  type: 'PackageUploaded', stream: name, actor: 'user:olga', data: { name, size, sha256 },
});
const packages = projectionSuite('packages projection');

packages('given packages uploaded, one replaced, then each name has its latest content', async (ctx) => {
  await ctx.given(uploaded('agent.deb', 10, 'aa'), uploaded('agent.rpm', 20, 'bb'), uploaded('agent.deb', 30, 'cc'));
  assert.equal(ctx.rows('SELECT name, size, sha256, uploaded_by, seq FROM packages ORDER BY name'), [
    { name: 'agent.deb', size: 30, sha256: 'cc', uploaded_by: 'user:olga', seq: 3 },
    { name: 'agent.rpm', size: 20, sha256: 'bb', uploaded_by: 'user:olga', seq: 2 },
  ]);
});

packages.run();
