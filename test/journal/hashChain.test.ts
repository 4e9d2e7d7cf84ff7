import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createAppender } from '../../src/journal/appendToJournal.js';
import { openDatabase, type Db } from '../../src/journal/database.js';
import { createGroupCommit } from '../../src/journal/groupCommit.js';
import { verifyChain } from '../../src/journal/verifyChain.js';

const Chain = suite<{ db: Db }>('hash chain');

Chain.before.each(async (ctx) => {
  ctx.db = openDatabase(':memory:');
  const commit = createGroupCommit({ db: ctx.db, appender: createAppender(ctx.db), projections: [], quotaBytes: 1 << 30 });
  for (let i = 0; i < 10; i++) {
    await commit.run((tx) =>
      tx.append({ type: 'StatelessEventsReceived', stream: 'a', actor: 'agent:a', data: { agent: 'a', events: 1 }, body: Buffer.from(`{"i":${i}}`) }),
    );
  }
});
Chain.after.each((ctx) => {
  ctx.db.close();
});

Chain('an untouched journal verifies', (ctx) => {
  assert.equal(verifyChain(ctx.db), { ok: true, checked: 10 });
});

Chain('a changed body is found at its seq', (ctx) => {
  ctx.db.prepare("UPDATE journal SET body = ? WHERE seq = 4").run(Buffer.from('{"i":99}'));
  assert.equal(verifyChain(ctx.db), { ok: false, checked: 3, first_bad_seq: 4 });
});

Chain('a changed actor is found at its seq', (ctx) => {
  ctx.db.prepare("UPDATE journal SET actor = 'agent:b' WHERE seq = 7").run();
  assert.equal(verifyChain(ctx.db), { ok: false, checked: 6, first_bad_seq: 7 });
});

Chain('a removed entry breaks the chain after it', (ctx) => {
  ctx.db.prepare('DELETE FROM journal WHERE seq = 5').run();
  assert.equal(verifyChain(ctx.db), { ok: false, checked: 4, first_bad_seq: 6 });
});

Chain('a removed head of the journal is found', (ctx) => {
  ctx.db.prepare('DELETE FROM journal WHERE seq = 1').run();
  const r = verifyChain(ctx.db);
  assert.is(r.ok, false);
});

Chain.run();
