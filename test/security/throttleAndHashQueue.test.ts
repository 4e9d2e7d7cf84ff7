import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createHashQueue, HashQueueFullError, poolShare } from '../../src/security/hashQueue.js';
import { createThrottle } from '../../src/security/throttle.js';

const Queue = suite('the slow hashes’ queue');

Queue('runs at most `concurrency` at once, queues `maxQueued`, refuses the rest at once', async () => {
  const q = createHashQueue({ concurrency: 2, maxQueued: 3 });
  let running = 0;
  let peak = 0;
  const work = () =>
    q.run(async () => {
      running += 1;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 20));
      running -= 1;
      return 'done';
    });
  const outcomes = await Promise.allSettled(Array.from({ length: 8 }, work));
  assert.is(peak, 2);
  assert.is(outcomes.filter((o) => o.status === 'fulfilled').length, 5);
  const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
  assert.is(refused.length, 3);
  assert.ok(refused.every((o) => o.reason instanceof HashQueueFullError));
  assert.equal(q.stats(), { running: 0, queued: 0 });
});

Queue('keeps two threads of libuv’s pool for file I/O', () => {
  assert.is(poolShare(8, 4), 2);
  assert.is(poolShare(2, 16), 2);
  assert.is(poolShare(4, 2), 1);
});

Queue.run();

const Throttle = suite('the login throttle');

Throttle('attempts in flight count: with 5 free failures, a 6th simultaneous attempt waits', () => {
  const t = createThrottle({ now: () => 0 });
  const held = Array.from({ length: 5 }, () => t.begin('1.1.1.1', 'agent:a'));
  assert.ok(held.every((d) => d.ok));
  const sixth = t.begin('1.1.1.1', 'agent:a');
  assert.equal(sixth, { ok: false, retryAfter: 1 });
});

Throttle('failures of one principal do not block another from the same address below the address ceiling', () => {
  const t = createThrottle({ now: () => 0 });
  for (let i = 0; i < 9; i++) {
    const d = t.begin('nat', 'agent:ghost');
    if (d.ok) d.attempt.failed();
  }
  assert.is(t.begin('nat', 'agent:ghost').ok, false);
  assert.ok(t.begin('nat', 'agent:good').ok);
});

Throttle('past the free failures the delay doubles; after it one attempt goes through; a success clears the principal', () => {
  let now = 0;
  const t = createThrottle({ now: () => now });
  for (let i = 0; i < 5; i++) {
    const d = t.begin('a', 'user:olga');
    assert.ok(d.ok);
    if (d.ok) d.attempt.failed();
  }
  assert.equal(t.begin('a', 'user:olga'), { ok: false, retryAfter: 1 });
  now = 1000;
  const one = t.begin('a', 'user:olga');
  assert.ok(one.ok);
  if (one.ok) one.attempt.failed();
  assert.equal(t.begin('a', 'user:olga'), { ok: false, retryAfter: 2 });
  now = 3000;
  const ok = t.begin('a', 'user:olga');
  assert.ok(ok.ok);
  if (ok.ok) ok.attempt.succeeded();
  assert.ok(t.begin('a', 'user:olga').ok);
});

Throttle('an address has its own, higher ceiling over all principals', () => {
  const t = createThrottle({ now: () => 0 });
  for (let i = 0; i < 100; i++) {
    const d = t.begin('nat', `agent:u${i}`);
    assert.ok(d.ok, `attempt ${i}`);
    if (d.ok) d.attempt.failed();
  }
  assert.is(t.begin('nat', 'agent:fresh').ok, false);
  assert.ok(t.begin('elsewhere', 'agent:fresh').ok);
});

Throttle.run();
