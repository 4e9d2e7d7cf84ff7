import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  decideIngestStateless,
  IdempotencyKeyReusedError,
  InvalidBatchError,
  validateStatelessBody,
} from '../../src/commands/ingestStatelessEvents.js';
import { asAgentId } from '../../src/journal/ids.js';

const b = (s: string) => Buffer.from(s);
const agent = asAgentId('agent-1');

const Validate = suite('validating a stateless body');

Validate('counts the events of a well-formed body', () => {
  assert.is(validateStatelessBody(b('{"agent":{}}\n{"module":"m","collector":"c"}\n{"a":1}\n{"module":"m","collector":"c"}\n{"a":2}\n')), 2);
});

Validate('accepts a body without a trailing newline and CRLF line ends', () => {
  assert.is(validateStatelessBody(b('{"agent":{}}\r\n{"module":"m","collector":"c"}\r\n{"a":1}')), 1);
});

for (const [name, body, line] of [
  ['an empty body', '', 1],
  ['a first line that is not agent metadata', '{"x":1}\n{"module":"m","collector":"c"}\n{}\n', 1],
  ['an invalid JSON line', '{"agent":{}}\n{"module":"m","collector":"c"}\n{oops}\n', 3],
  ['an empty line', '{"agent":{}}\n\n{"module":"m","collector":"c"}\n{}\n', 2],
  ['a header without collector', '{"agent":{}}\n{"module":"m"}\n{}\n', 2],
  ['a header whose module is not a string', '{"agent":{}}\n{"module":1,"collector":"c"}\n{}\n', 2],
  ['an event that is not an object', '{"agent":{}}\n{"module":"m","collector":"c"}\n[1]\n', 3],
  ['a header without its event', '{"agent":{}}\n{"module":"m","collector":"c"}\n{}\n{"module":"m","collector":"c"}\n', 5],
  ['only the agent line', '{"agent":{}}\n', 2],
] as const) {
  Validate(`refuses ${name}, naming line ${line}`, () => {
    try {
      validateStatelessBody(b(body));
      assert.unreachable();
    } catch (e) {
      assert.instance(e, InvalidBatchError);
      assert.is((e as InvalidBatchError).line, line);
    }
  });
}
Validate.run();

const Decide = suite('deciding on a stateless batch');

Decide('a new batch becomes one StatelessEventsReceived entry holding the bytes as sent', () => {
  const body = b('{"agent":{"id":"spoofed"}}\n{"module":"m","collector":"c"}\n{"a":1}\n');
  const d = decideIngestStateless(undefined, { agent, body, bodySha256: 'd1', events: 1, idempotencyKey: 'k' });
  assert.ok('entry' in d);
  if (!('entry' in d)) return;
  assert.is(d.entry.type, 'StatelessEventsReceived');
  assert.is(d.entry.stream, 'agent-1');
  assert.is(d.entry.actor, 'agent:agent-1');
  assert.equal(d.entry.data, { agent: 'agent-1', events: 1, idempotencyKey: 'k', bodySha256: 'd1' });
  assert.is(d.entry.body, body);
});

Decide('a batch seen before under the same key with the same bytes is answered again and journals nothing', () => {
  const d = decideIngestStateless({ seq: 42, events: 3, body_sha256: 'd1' }, { agent, body: b('x'), bodySha256: 'd1', events: 1, idempotencyKey: 'k' });
  assert.equal(d, { replay: { batch: 'stateless-42', seq: 42, events: 3, durability: 'journaled' } });
});

Decide('the same key with other bytes is refused (422), a key remembered without a digest matches any body', () => {
  try {
    decideIngestStateless({ seq: 42, events: 3, body_sha256: 'd1' }, { agent, body: b('y'), bodySha256: 'd2', events: 1, idempotencyKey: 'k' });
    assert.unreachable();
  } catch (e) {
    assert.instance(e, IdempotencyKeyReusedError);
  }
  const legacy = decideIngestStateless({ seq: 7, events: 1, body_sha256: null }, { agent, body: b('y'), bodySha256: 'd2', events: 1, idempotencyKey: 'k' });
  assert.ok('replay' in legacy);
});
Decide.run();

const Utf8 = suite('bytes that are not UTF-8');
Utf8('are refused, naming their line', () => {
  const body = Buffer.concat([Buffer.from('{"agent":{}}\n{"module":"m","collector":"c"}\n{"a":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}\n')]);
  try {
    validateStatelessBody(body);
    assert.unreachable();
  } catch (e) {
    assert.instance(e, InvalidBatchError);
    assert.is((e as InvalidBatchError).line, 3);
  }
});
Utf8.run();
