import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { API_KEY_PATTERN, decideCreateApiKey, decideRevokeApiKey, hashApiKey, newApiKey, UnknownApiKeyError } from '../../src/commands/apiKeys.js';
import { decideCancelCommand } from '../../src/commands/cancelCommand.js';
import { UnknownCommandError } from '../../src/commands/recordCommandResult.js';
import { DeadLetterResolvedError, decideDiscardDeadLetter } from '../../src/commands/retryDeadLetter.js';
import { decideUserChange, UnknownUserError } from '../../src/commands/userLifecycle.js';
import { asCommandId, UserName } from '../../src/journal/ids.js';

const olga = UserName.parse('olga');

const users = suite('decideUserChange');
users('disable, enable and delete are journaled with the actor; no-op changes journal nothing', () => {
  assert.equal(decideUserChange({ disabled: 0 }, olga, 'disable', 'user:root'), [{ type: 'UserDisabled', stream: 'user:olga', actor: 'user:root', data: { name: 'olga' } }]);
  assert.equal(decideUserChange({ disabled: 1 }, olga, 'disable', 'user:root'), []);
  assert.equal(decideUserChange({ disabled: 1 }, olga, 'enable', 'user:root').map((e) => e.type), ['UserEnabled']);
  assert.equal(decideUserChange({ disabled: 0 }, olga, 'enable', 'user:root'), []);
  assert.equal(decideUserChange({ disabled: 1 }, olga, 'delete', 'cli').map((e) => [e.type, e.actor]), [['UserDeleted', 'cli']]);
  assert.throws(() => decideUserChange(undefined, olga, 'delete', 'cli'), (e: unknown) => e instanceof UnknownUserError);
});
users.run();

const keys = suite('API keys');
keys('a new key matches the pattern, its hash is what is journaled, and revoking twice journals once', () => {
  const { id, key } = newApiKey();
  assert.ok(API_KEY_PATTERN.test(key));
  assert.is(API_KEY_PATTERN.exec(key)![1], id);
  const [created] = decideCreateApiKey({ name: 'ci', role: 'metrics' }, id, hashApiKey(key), 'user:olga');
  assert.equal(created, { type: 'ApiKeyCreated', stream: `api-key:${id}`, actor: 'user:olga', data: { id, name: 'ci', role: 'metrics', keyHash: hashApiKey(key) } });
  assert.not.match(JSON.stringify(created), key);
  assert.equal(decideRevokeApiKey({ revoked_at: null }, id, 'user:olga').map((e) => e.type), ['ApiKeyRevoked']);
  assert.equal(decideRevokeApiKey({ revoked_at: 5 }, id, 'user:olga'), []);
  assert.throws(() => decideRevokeApiKey(undefined, id, 'user:olga'), (e: unknown) => e instanceof UnknownApiKeyError);
});
keys.run();

const cancel = suite('decideCancelCommand');
cancel('each open target becomes one CommandCancelled with the actor; an unknown command is refused', () => {
  const id = asCommandId('c-1');
  assert.equal(decideCancelCommand(true, id, ['a1', 'a2'], 'user:olga'), [
    { type: 'CommandCancelled', stream: 'c-1', actor: 'user:olga', data: { id: 'c-1', agent: 'a1' } },
    { type: 'CommandCancelled', stream: 'c-1', actor: 'user:olga', data: { id: 'c-1', agent: 'a2' } },
  ]);
  assert.equal(decideCancelCommand(true, id, [], 'user:olga'), []);
  assert.throws(() => decideCancelCommand(false, id, [], 'user:olga'), (e: unknown) => e instanceof UnknownCommandError);
});
cancel.run();

const discard = suite('decideDiscardDeadLetter');
discard('an open dead letter is discarded once', () => {
  assert.equal(decideDiscardDeadLetter({ id: 3, seq: 42, resolved: 0 }, 3, 'cli'), [{ type: 'DeadLetterDiscarded', stream: 'dead-letter:3', actor: 'cli', data: { id: 3, seq: 42 } }]);
  assert.throws(() => decideDiscardDeadLetter({ id: 3, seq: 42, resolved: 1 }, 3, 'cli'), (e: unknown) => e instanceof DeadLetterResolvedError);
});
discard.run();
