import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseRange } from '../../src/packages/range.js';

const Range = suite('parsing a Range header against a size');

Range('no header, another unit, a malformed or multi-range header: the whole file', () => {
  for (const h of [undefined, '', 'items=0-1', 'bytes=', 'bytes=-', 'bytes=a-b', 'bytes=5-2', 'bytes=0-1,5-6', 'bytes 0-1']) {
    assert.equal(parseRange(h, 100), { kind: 'full' }, String(h));
  }
});

Range('a closed range, an open range and a suffix', () => {
  assert.equal(parseRange('bytes=0-9', 100), { kind: 'partial', start: 0, end: 9 });
  assert.equal(parseRange('bytes=90-', 100), { kind: 'partial', start: 90, end: 99 });
  assert.equal(parseRange('bytes=-10', 100), { kind: 'partial', start: 90, end: 99 });
  assert.equal(parseRange('BYTES = 1 - 2', 100), { kind: 'partial', start: 1, end: 2 });
});

Range('an end past the size is clamped; a suffix longer than the file is the whole file', () => {
  assert.equal(parseRange('bytes=50-1000', 100), { kind: 'partial', start: 50, end: 99 });
  assert.equal(parseRange('bytes=-1000', 100), { kind: 'partial', start: 0, end: 99 });
});

Range('a start at or past the end, a zero suffix, any range of an empty file: unsatisfiable', () => {
  assert.equal(parseRange('bytes=100-', 100), { kind: 'unsatisfiable' });
  assert.equal(parseRange('bytes=100-200', 100), { kind: 'unsatisfiable' });
  assert.equal(parseRange('bytes=-0', 100), { kind: 'unsatisfiable' });
  assert.equal(parseRange('bytes=0-', 0), { kind: 'unsatisfiable' });
  assert.equal(parseRange('bytes=-5', 0), { kind: 'unsatisfiable' });
});

Range.run();
