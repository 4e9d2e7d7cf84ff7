import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { deepMerge } from '../../src/queries/configuration.js';
import { canonicalJson, contentEtag, ifMatchSatisfied, ifNoneMatchHit, parseEtagList } from '../../src/projections/etag.js';

const Merge = suite('merging group configurations');

Merge('objects merge key by key; arrays and scalars from the later group replace', () => {
  const a = { log: { level: 'info', files: ['a'], keep: true }, n: 1, list: [1, 2] };
  const b = { log: { level: 'debug', files: ['b'] }, list: [3], extra: null };
  assert.equal(deepMerge(a, b), { log: { level: 'debug', files: ['b'], keep: true }, n: 1, list: [3], extra: null });
});

Merge('an object replaces a scalar and a scalar replaces an object', () => {
  assert.equal(deepMerge({ a: 1, b: { c: 1 } }, { a: { x: 1 }, b: 2 }), { a: { x: 1 }, b: 2 });
});

Merge('neither input is changed', () => {
  const a = { o: { x: 1 } };
  const b = { o: { y: 2 } };
  deepMerge(a, b);
  assert.equal(a, { o: { x: 1 } });
  assert.equal(b, { o: { y: 2 } });
});

Merge('a "__proto__" key stays data and pollutes nothing', () => {
  const evil = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}');
  const merged = deepMerge({}, evil);
  assert.is(({} as Record<string, unknown>).polluted, undefined);
  assert.is(Object.getPrototypeOf(merged), Object.prototype);
  assert.ok(Object.keys(merged).includes('__proto__'));
  assert.match(canonicalJson(merged), /"__proto__":\{"polluted":true\}/);
});

const Etags = suite('entity tags');

Etags('canonical JSON sorts keys at every level, not arrays', () => {
  assert.is(canonicalJson({ b: [{ d: 1, c: 2 }], a: 1 }), '{"a":1,"b":[{"c":2,"d":1}]}');
  assert.is(contentEtag({ x: 1, y: 2 }), contentEtag({ y: 2, x: 1 }));
  assert.is.not(contentEtag({ l: [1, 2] }), contentEtag({ l: [2, 1] }));
  assert.match(contentEtag({}), /^"[0-9a-f]{64}"$/);
});

Etags('header lists are parsed; garbage is no tag at all', () => {
  assert.equal(parseEtagList('"a", W/"b",*'), ['"a"', 'W/"b"', '*']);
  assert.equal(parseEtagList('a'), []);
  assert.equal(parseEtagList('"a" b'), []);
});

Etags('If-Match: strong comparison; * only for an existing representation', () => {
  assert.ok(ifMatchSatisfied('"x"', '"x"', true));
  assert.ok(ifMatchSatisfied('"y", "x"', '"x"', false));
  assert.not.ok(ifMatchSatisfied('W/"x"', '"x"', true));
  assert.not.ok(ifMatchSatisfied('"y"', '"x"', true));
  assert.ok(ifMatchSatisfied('*', '"x"', true));
  assert.not.ok(ifMatchSatisfied('*', '"x"', false));
});

Etags('If-None-Match: weak comparison', () => {
  assert.ok(ifNoneMatchHit('W/"x"', '"x"'));
  assert.ok(ifNoneMatchHit('"a", "x"', '"x"'));
  assert.ok(ifNoneMatchHit('*', '"x"'));
  assert.not.ok(ifNoneMatchHit('"a"', '"x"'));
});

Merge.run();
Etags.run();
