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

const Depth = suite('NDJSON nesting: only a line with more than 64 opening brackets is checked, and every such line is');

/** `n` arrays nested in one another: `[[…[1]…]]`. */
const nested = (n: number) => `${'['.repeat(n)}1${']'.repeat(n)}`;
const shallowMany = `[${Array.from({ length: 100 }, (_, i) => `[${i}]`).join(',')}]`;
const bracketsInStrings = JSON.stringify({ s: '['.repeat(200) + '{'.repeat(200) });

for (const [label, pad] of [['decoded at once', ''], ['decoded line by line (over 1 MiB)', `${JSON.stringify({ pad: 'x'.repeat(1 << 20) })}\n`]] as const) {
  Depth(`${label}: 100 sibling arrays (101 brackets, 2 levels) and brackets inside strings pass`, () => {
    const body = Buffer.from(`${pad}${shallowMany}\n${bracketsInStrings}\n${nested(64)}\n{"a":1}\n`);
    assert.equal(parseNdjson(body, () => null), { ok: true, lines: pad ? 5 : 4 });
  });
  Depth(`${label}: 65 levels are refused at their line, after lines full of brackets that were fine`, () => {
    const first = pad ? 2 : 1;
    const body = Buffer.from(`${pad}${shallowMany}\n${bracketsInStrings}\r\n{"a":[1,2]}\n${nested(65)}\n{"a":1}\n`);
    const r = parseNdjson(body, () => null);
    assert.is(r.ok, false);
    assert.is((r as { line: number }).line, first + 3);
    assert.match((r as { reason: string }).reason, /nest/);
  });
}
Depth('a deep line after many lines without brackets is found (each bracket is searched for once)', () => {
  const body = Buffer.from(`${'1\n'.repeat(5000)}${nested(70)}\n`);
  const r = parseNdjson(body, () => null);
  assert.equal({ ok: r.ok, line: (r as { line: number }).line }, { ok: false, line: 5001 });
});
Depth('multi-byte characters before a deep line: the line is still found (string positions, not bytes)', () => {
  const body = Buffer.from(`${JSON.stringify({ s: 'é€😀'.repeat(50) })}\n${nested(66)}\n`);
  const r = parseNdjson(body, () => null);
  assert.equal({ ok: r.ok, line: (r as { line: number }).line }, { ok: false, line: 2 });
});

Depth.run();
