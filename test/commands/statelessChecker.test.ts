import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { InvalidBatchError } from '../../src/commands/ingestStatelessEvents.js';
import { createStatelessChecker, type StatelessChecker } from '../../src/commands/statelessChecker.js';
import { eventually } from '../support/eventually.js';

const body = (events: number, tail = '') =>
  Buffer.from(`{"agent":{"name":"a","version":"4.9.0"}}\n${'{"module":"m","collector":"c"}\n{"s":"xxxxxxxxxxxxxxxx"}\n'.repeat(events)}${tail}`);

const Checker = suite<{ checker: StatelessChecker }>('the checker thread of mid-sized stateless bodies');
Checker.before(async (ctx) => {
  ctx.checker = createStatelessChecker();
  assert.is(ctx.checker.ready(), false, 'not up before the first call, which starts it');
  await eventually(async () => ctx.checker.ready(), (up) => up, { what: 'the checker thread to be up' });
});
Checker.after((ctx) => ctx.checker.close());

Checker('answers the checks and moves the same bytes back', async ({ checker }) => {
  const sent = body(500);
  const copy = Buffer.from(sent);
  const { checked, body: back } = await checker.check(sent, 'key-1');
  assert.is(checked.events, 500);
  assert.equal(checked.agentLine, { agent: { name: 'a', version: '4.9.0' } });
  assert.match(checked.bodySha256, /^[0-9a-f]{64}$/);
  assert.ok(back.equals(copy));
  assert.is(sent.length, 0, 'the body it owned was moved, not copied');
});

Checker('a view into a larger buffer is copied: the caller keeps its buffer', async ({ checker }) => {
  const whole = Buffer.concat([Buffer.from('prefix'), body(300)]);
  const view = whole.subarray(6);
  const { checked, body: back } = await checker.check(view);
  assert.is(checked.events, 300);
  assert.is(checked.bodySha256, '');
  assert.ok(back.equals(whole.subarray(6)));
  assert.is(whole.length, 6 + back.length);
});

Checker('a bad line is the same 400 as on the main thread, naming its line', async ({ checker }) => {
  try {
    await checker.check(body(400, '{"module":"m"}\n{}\n'));
    assert.unreachable();
  } catch (e) {
    assert.instance(e, InvalidBatchError);
    assert.is((e as InvalidBatchError).line, 802);
  }
  // the thread keeps serving after a refusal
  assert.is((await checker.check(body(3))).checked.events, 3);
});

Checker.run();
