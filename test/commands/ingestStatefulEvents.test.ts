import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decideIngestStateful, parseStatefulBody } from '../../src/commands/ingestStatefulEvents.js';
import { InvalidBatchError } from '../../src/commands/ingestStatelessEvents.js';
import { asAgentId } from '../../src/journal/ids.js';

const body = (lines: unknown[]) => Buffer.from(lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n');
const AGENT = { agent: { id: 'x' } };

function refused(lines: unknown[]): InvalidBatchError {
  try {
    parseStatefulBody(body(lines));
  } catch (e) {
    assert.instance(e, InvalidBatchError);
    return e as InvalidBatchError;
  }
  assert.unreachable('the body was accepted');
  throw new Error('unreachable');
}

const parse = suite('stateful body');

parse('creates and updates carry their data line; a delete has none', () => {
  const items = parseStatefulBody(
    body([
      AGENT,
      { id: 'a', module: 'packages', collector: 'dpkg', operation: 'create' }, { name: 'curl' },
      { id: 'b', module: 'packages', operation: 'delete' },
      { id: 'c', module: 'ports', operation: 'update' }, { port: 22 },
    ]),
  );
  assert.equal(items, [
    { id: 'a', module: 'packages', collector: 'dpkg', operation: 'create', doc: { name: 'curl' } },
    { id: 'b', module: 'packages', operation: 'delete' },
    { id: 'c', module: 'ports', operation: 'update', doc: { port: 22 } },
  ]);
});

parse('errors name the line', () => {
  assert.is(refused([AGENT, { id: 'a', module: 'm', operation: 'create' }]).line, 3);
  assert.is(refused([AGENT, { id: 'a', module: 'm', operation: 'create' }, 'not json']).line, 3);
  assert.is(refused([AGENT, { id: 'a', module: 'm', operation: 'create' }, 5]).line, 3);
  assert.is(refused([AGENT, { id: 'a', module: 'm', operation: 'merge' }, {}]).line, 2);
  assert.is(refused([AGENT, { id: '', module: 'm', operation: 'delete' }]).line, 2);
  assert.is(refused([AGENT, { id: 'a', module: 'bad module', operation: 'delete' }]).line, 2);
  assert.is(refused([AGENT, { id: 'a', module: 'm', operation: 'delete' }, { stray: true }]).line, 3);
  assert.is(refused([{ agent: 1 }, { id: 'a', module: 'm', operation: 'delete' }]).line, 1);
  assert.is(refused([AGENT]).line, 2);
  assert.match(refused([AGENT, { id: 'a', module: 'm', operation: 'merge' }, {}]).reason, /operation/);
});

parse('a command item must carry a command result', () => {
  const e = refused([AGENT, { id: 'cmd-1', module: 'command', operation: 'update' }, { status: 'maybe' }]);
  assert.is(e.line, 3);
  assert.match(e.reason, /status/);
  const ok = parseStatefulBody(body([AGENT, { id: 'cmd-1', module: 'command', operation: 'update' }, { status: 'success', code: 0 }]));
  assert.is(ok.length, 1);
});

const decide = suite('decide: ingest stateful events');

decide('one StatefulEventsReceived entry on the agent stream', () => {
  const items = [{ id: 'a', module: 'm', operation: 'delete' as const }];
  assert.equal(decideIngestStateful({ agent: asAgentId('ag-1'), batch: 'stateful-1', items }), {
    type: 'StatefulEventsReceived',
    stream: 'ag-1',
    actor: 'agent:ag-1',
    data: { agent: 'ag-1', batch: 'stateful-1', items },
  });
});

parse.run();
decide.run();
