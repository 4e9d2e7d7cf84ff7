import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decideDeleteAgent, UnknownAgentError } from '../../src/commands/deleteAgent.js';
import { decideRegisterAgent, RegisterAgent } from '../../src/commands/registerAgent.js';
import { DuplicateError } from '../../src/journal/errors.js';
import { asAgentId } from '../../src/journal/ids.js';

const Register = suite('registering an agent');
const cmd = RegisterAgent.parse({ uuid: 'agent-1', key: 'a'.repeat(32), groups: ['linux', 'linux', 'web'] });

Register('a new agent is journaled with its key hash, never its key, and unique groups', () => {
  const [e] = decideRegisterAgent(false, cmd, 'scrypt$hash', 'user:alice');
  assert.equal(e, {
    type: 'AgentRegistered',
    stream: 'agent-1',
    actor: 'user:alice',
    data: { uuid: 'agent-1', name: 'agent-1', groups: ['linux', 'web'], keyHash: 'scrypt$hash' },
  });
  assert.not.match(JSON.stringify(e), 'a'.repeat(32));
});

Register('an agent registered twice is a duplicate', () => {
  assert.throws(() => decideRegisterAgent(true, cmd, 'h', 'cli'), (e: unknown) => e instanceof DuplicateError);
});

Register('the key must be 32 letters and digits', () => {
  for (const key of ['short', 'a'.repeat(31) + '!', 'a'.repeat(33)]) {
    assert.not.ok(RegisterAgent.safeParse({ uuid: 'x', key }).success, key);
  }
});

Register('deleting an unknown agent is refused', () => {
  assert.throws(() => decideDeleteAgent(false, asAgentId('nope'), 'cli'), (e: unknown) => e instanceof UnknownAgentError);
  assert.equal(decideDeleteAgent(true, asAgentId('a'), 'cli'), [{ type: 'AgentDeleted', stream: 'a', actor: 'cli', data: { uuid: 'a' } }]);
});
Register.run();
