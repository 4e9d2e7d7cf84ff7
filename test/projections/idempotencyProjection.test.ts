import * as assert from 'uvu/assert';
import type { Entry } from '../../src/journal/entries.js';
import { projectionSuite } from '../support/projections.js';

const batch = (agent: string, events: number, idempotencyKey?: string): Entry => ({
  type: 'StatelessEventsReceived', stream: agent, actor: `agent:${agent}`, data: { agent, events, ...(idempotencyKey ? { idempotencyKey } : {}) },
});
const keys = projectionSuite('idempotency projection');

keys('given batches with and without keys, then each key is remembered per agent with its first batch', async (ctx) => {
  await ctx.given(batch('a-1', 2, 'k1'), batch('a-1', 5), batch('a-2', 3, 'k1'), batch('a-1', 9, 'k1'));
  assert.equal(ctx.rows('SELECT agent, key, seq, events FROM idempotency_keys ORDER BY agent, key'), [
    { agent: 'a-1', key: 'k1', seq: 1, events: 2 },
    { agent: 'a-2', key: 'k1', seq: 3, events: 3 },
  ]);
});

keys.run();
