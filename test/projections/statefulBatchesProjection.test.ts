import * as assert from 'uvu/assert';
import { statesIndex } from '../../src/indexer/templates.js';
import { projectionSuite } from '../support/projections.js';

const batches = projectionSuite('stateful batches projection');

batches('given a stateful batch, then one batch row and one item row per item, in order, without results yet', async (ctx) => {
  await ctx.given({
    type: 'StatefulEventsReceived', stream: 'a-1', actor: 'agent:a-1',
    data: {
      agent: 'a-1',
      batch: 'stateful-1',
      items: [
        { id: 'pkg-1', module: 'inventory', operation: 'create', doc: { name: 'curl' } },
        { id: 'pkg-2', module: 'inventory', operation: 'delete' },
      ],
    },
  });
  assert.equal(ctx.rows('SELECT batch, seq, agent, items FROM stateful_batches'), [{ batch: 'stateful-1', seq: 1, agent: 'a-1', items: 2 }]);
  assert.equal(ctx.rows('SELECT position, id, module, operation, index_name, result, status FROM stateful_items ORDER BY position'), [
    { position: 0, id: 'pkg-1', module: 'inventory', operation: 'create', index_name: statesIndex('inventory'), result: null, status: null },
    { position: 1, id: 'pkg-2', module: 'inventory', operation: 'delete', index_name: statesIndex('inventory'), result: null, status: null },
  ]);
});

batches.run();
