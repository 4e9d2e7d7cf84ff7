// The console's pure browser modules, imported as they are shipped (plain ES modules, no DOM needed).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { ROOT } from '../support/server.js';

const load = async (file: string): Promise<any> => import(new URL(`console/js/${file}`, `file://${ROOT}`).href);

const diff = suite('the conflict diff');
diff('keeps common lines and marks removed and added ones', async () => {
  const { diffLines } = await load('diff.js');
  const a = JSON.stringify({ a: 1, b: 2, c: 3 }, null, 2);
  const b = JSON.stringify({ a: 1, c: 4, d: 5 }, null, 2);
  const ops = diffLines(a, b).map((r: { op: string; line: string }) => `${r.op}${r.line.trim()}`);
  assert.equal(ops, [' {', ' "a": 1,', '-"b": 2,', '-"c": 3', '+"c": 4,', '+"d": 5', ' }']);
  assert.equal(diffLines('x', 'x'), [{ op: ' ', line: 'x' }]);
});
diff.run();

const csv = suite('the history CSV export');
csv('has a header and quotes commas, quotes and line breaks (RFC 4180)', async () => {
  const { toCsv } = await load('pages/history.js');
  const text = toCsv([{ seq: 7, time: 't', command: 'c1', agent: null, action: 'upgrade', type: 'CommandIssued', state: 'pending', actor: 'user:"o,l"\nga' }]);
  assert.is(text, 'seq,time,command,agent,action,type,state,actor\r\n7,t,c1,,upgrade,CommandIssued,pending,"user:""o,l""\nga"\r\n');
});
csv.run();

const config = suite('the group configuration check');
config('accepts an object, refuses other JSON, bad JSON and too deep nesting', async () => {
  const { check } = await load('pages/group.js');
  assert.equal(check('{"a": {"b": 1}}'), { ok: true, value: { a: { b: 1 } } });
  for (const bad of ['[]', '1', 'null', '{"a":', `${'{"a":'.repeat(33)}1${'}'.repeat(33)}`]) assert.is(check(bad).ok, false, bad);
  assert.is(check(`${'{"a":'.repeat(32)}1${'}'.repeat(32)}`).ok, true);
});
config.run();
