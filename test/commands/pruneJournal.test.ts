import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decidePrune } from '../../src/commands/pruneJournal.js';
import { DeadLetterResolvedError, decideRetryDeadLetter, UnknownDeadLetterError } from '../../src/pipelines/retryDeadLetter.js';

const prune = suite('decide: prune the journal');

prune('prunes up to the smaller of what was asked and what every sink acknowledged', () => {
  assert.equal(decidePrune({ firstSeq: 1, requested: 50, safe: 30 }, 30, 'ab', 'cli'), [
    { type: 'JournalPruned', stream: 'journal', actor: 'cli', data: { throughSeq: 30, removed: 30, anchorHash: 'ab' } },
  ]);
  assert.equal(decidePrune({ firstSeq: 1, requested: 10, safe: 30 }, 10, 'ab', 'cli')[0]!.data, { throughSeq: 10, removed: 10, anchorHash: 'ab' });
});

prune('nothing is journaled when nothing can go', () => {
  assert.equal(decidePrune({ firstSeq: 40, requested: 50, safe: 30 }, 0, 'ab', 'cli'), []);
  assert.equal(decidePrune({ firstSeq: 1, requested: 0, safe: 30 }, 0, 'ab', 'cli'), []);
});

const retry = suite('decide: retry a dead letter');

retry('an open dead letter is journaled as retried', () => {
  assert.equal(decideRetryDeadLetter({ id: 3, seq: 17, resolved: 0 }, 3, 'user:ops'), [
    { type: 'DeadLetterRetried', stream: 'dead-letter:3', actor: 'user:ops', data: { id: 3, seq: 17 } },
  ]);
});

retry('an unknown or already delivered one is refused', () => {
  assert.throws(() => decideRetryDeadLetter(undefined, 9, 'cli'), (e: unknown) => e instanceof UnknownDeadLetterError);
  assert.throws(() => decideRetryDeadLetter({ id: 3, seq: 17, resolved: 1 }, 3, 'cli'), (e: unknown) => e instanceof DeadLetterResolvedError);
});

prune.run();
retry.run();
