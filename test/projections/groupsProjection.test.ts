import * as assert from 'uvu/assert';
import type { Entry } from '../../src/journal/entries.js';
import { projectionSuite } from '../support/projections.js';

const put = (group: string, configuration: Record<string, unknown>, etag: string): Entry => ({
  type: 'GroupConfigurationPut', stream: group, actor: 'user:olga', data: { group, configuration, etag },
});
const groups = projectionSuite('groups projection');

groups('given configurations put for two groups, one twice, then each group has its latest configuration and ETag', async (ctx) => {
  await ctx.given(put('web', { a: 1 }, '"e1"'), put('db', { b: 2 }, '"e2"'), put('web', { a: 3 }, '"e3"'));
  assert.equal(ctx.rows('SELECT grp, configuration, etag, updated_seq, updated_by FROM group_configurations ORDER BY grp'), [
    { grp: 'db', configuration: '{"b":2}', etag: '"e2"', updated_seq: 2, updated_by: 'user:olga' },
    { grp: 'web', configuration: '{"a":3}', etag: '"e3"', updated_seq: 3, updated_by: 'user:olga' },
  ]);
});

groups.run();
