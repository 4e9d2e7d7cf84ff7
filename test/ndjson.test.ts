import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseNdjson, parseNdjsonYielding } from '../src/ndjson.js';

/** How many times other work ran (a setImmediate chain) while `work` was in progress. */
async function turnsDuring(work: Promise<unknown>): Promise<number> {
  let done = false;
  let turns = 0;
  void work.finally(() => (done = true));
  await new Promise<void>((resolve) => {
    const tick = () => {
      if (done) return resolve();
      turns += 1;
      setImmediate(tick);
    };
    setImmediate(tick);
  });
  return turns;
}

const Slices = suite('NDJSON parsed in slices');

Slices('long lines are sliced too: the clock is read every 64 KiB, not only every 256 lines', async () => {
  const line = JSON.stringify({ s: 'x'.repeat(100_000) });
  const body = Buffer.from(`${line}\n`.repeat(100));
  const parsed = parseNdjsonYielding(body, () => null, 0);
  const turns = await turnsDuring(parsed);
  assert.equal(await parsed, { ok: true, lines: 100 });
  assert.ok(turns >= 50, `other work ran ${turns} times while 100 lines of 100 KB were parsed`);
});

Slices('short lines: the result is the same as parsing at once', async () => {
  const body = Buffer.from('{"a":1}\n[1,2]\n"x"\n'.repeat(1000));
  assert.equal(await parseNdjsonYielding(body, () => null, 0), parseNdjson(body, () => null));
});

Slices.run();
