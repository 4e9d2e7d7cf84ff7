import * as assert from 'uvu/assert';
import type { Entry } from '../../src/journal/entries.js';
import { projectionSuite } from '../support/projections.js';

const put = (name: string, description: string, actor = 'system'): Entry => ({
  type: 'CatalogEntryPut', stream: name, actor,
  data: { name, description, args: { type: 'object' }, defaultTimeout: 60, targetTypes: ['agent', 'group'] },
});
const catalog = projectionSuite('catalog projection');
const mine = "SELECT name, description, args, default_timeout, target_types, updated_seq, updated_by FROM catalog WHERE name LIKE 'test-%' ORDER BY name";

catalog('given an action put and put again, then one row holds the latest definition and who put it', async (ctx) => {
  await ctx.given(put('test-a', 'first'), put('test-b', 'other'), put('test-a', 'second', 'user:olga'));
  assert.equal(ctx.rows(mine), [
    { name: 'test-a', description: 'second', args: '{"type":"object"}', default_timeout: 60, target_types: '["agent","group"]', updated_seq: 3, updated_by: 'user:olga' },
    { name: 'test-b', description: 'other', args: '{"type":"object"}', default_timeout: 60, target_types: '["agent","group"]', updated_seq: 2, updated_by: 'system' },
  ]);
});

catalog.run();
