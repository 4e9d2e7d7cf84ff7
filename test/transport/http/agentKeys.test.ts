import Database from 'better-sqlite3';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decideRehashAgentKey } from '../../../src/commands/rehashAgentKey.js';
import { openDatabase } from '../../../src/journal/database.js';
import type { StoredEntry } from '../../../src/journal/entries.js';
import { openJournal } from '../../../src/journal/journal.js';
import { indexActions } from '../../../src/pipelines/indexerActions.js';
import { createProjections } from '../../../src/projections/index.js';
import { createAgentsProjection } from '../../../src/projections/agentsProjection.js';
import { findAgent } from '../../../src/projections/agentsReads.js';
import { hashSecret } from '../../../src/security/secrets.js';
import { call } from '../../support/client.js';
import { AGENT_KEY, startTestServer, tempDir, type TestServer } from '../../support/server.js';

function rows(server: TestServer, types: string[]): Array<{ seq: number; type: string; actor: string; data: any }> {
  const db = new Database(join(server.dataDir, 'comms.db'), { readonly: true });
  try {
    const r = db.prepare(`SELECT seq, type, actor, data FROM journal WHERE type IN (${types.map(() => '?').join(',')}) ORDER BY seq`).all(...types) as any[];
    return r.map((x) => ({ ...x, data: JSON.parse(x.data) }));
  } finally {
    db.close();
  }
}
const keyHashOf = (server: TestServer, uuid: string): string => {
  const db = new Database(join(server.dataDir, 'comms.db'), { readonly: true });
  try {
    return (db.prepare('SELECT key_hash FROM agents WHERE uuid = ?').get(uuid) as { key_hash: string }).key_hash;
  } finally {
    db.close();
  }
};
const loginAs = (server: TestServer, key: string) => call('POST', `${server.api}/login`, { json: { uuid: 'legacy-1', key } });

const Keys = suite<{ server: TestServer; legacy: string }>('agent keys: HMAC, legacy scrypt hashes migrated on login');
Keys.before.each(async (ctx) => {
  ctx.server = await startTestServer();
  // an agent registered before this change: its AgentRegistered carries a scrypt hash
  ctx.legacy = await hashSecret(AGENT_KEY);
  const journal = openJournal({ projections: createProjections, dataDir: ctx.server.dataDir, quotaBytes: 1 << 30 });
  await journal.commit.run((tx) => {
    tx.append({ type: 'AgentRegistered', stream: 'legacy-1', actor: 'test', data: { uuid: 'legacy-1', name: 'legacy-1', groups: [], keyHash: ctx.legacy } });
  });
  await journal.close();
});
Keys.after.each((ctx) => ctx.server.stop());

Keys('an agent registered now is stored as hmac-sha256 and logs in', async ({ server }) => {
  const { registerAgent, RegisterAgent } = await import('../../../src/commands/registerAgent.js');
  const { createAgentKeyHasher, loadAgentKeySecret } = await import('../../../src/security/agentKeys.js');
  const journal = openJournal({ projections: createProjections, dataDir: server.dataDir, quotaBytes: 1 << 30 });
  await registerAgent({ ...journal, hashKey: createAgentKeyHasher(loadAgentKeySecret(server.dataDir)).hash })(RegisterAgent.parse({ uuid: 'new-1', key: AGENT_KEY }), 'test');
  await journal.close();
  assert.match(keyHashOf(server, 'new-1'), /^hmac-sha256\$/);
  const r = await call('POST', `${server.api}/login`, { json: { uuid: 'new-1', key: AGENT_KEY } });
  assert.is(r.status, 200, r.text);
  assert.equal(rows(server, ['AgentKeyRehashed']), []);
});

Keys('a legacy hash is replaced on the first successful login, journaled once', async ({ server, legacy }) => {
  assert.is((await loginAs(server, 'x'.repeat(32))).status, 401);
  assert.equal(rows(server, ['AgentKeyRehashed']), [], 'a wrong key writes nothing');
  assert.is(keyHashOf(server, 'legacy-1'), legacy);

  const [a, b] = await Promise.all([loginAs(server, AGENT_KEY), loginAs(server, AGENT_KEY)]);
  assert.is(a.status, 200, a.text);
  assert.is(b.status, 200, b.text);
  const rehashed = rows(server, ['AgentKeyRehashed']);
  assert.is(rehashed.length, 1, 'two concurrent logins journal one re-hash');
  assert.is(rehashed[0]!.actor, 'agent:legacy-1');
  assert.match(rehashed[0]!.data.keyHash, /^hmac-sha256\$/);
  assert.is(keyHashOf(server, 'legacy-1'), rehashed[0]!.data.keyHash);

  assert.is((await loginAs(server, AGENT_KEY)).status, 200);
  assert.is((await loginAs(server, 'y'.repeat(32))).status, 401);
  assert.is(rows(server, ['AgentKeyRehashed']).length, 1);
});

Keys('the agents read model rebuilt from the journal holds the new hash', async ({ server }) => {
  assert.is((await loginAs(server, AGENT_KEY)).status, 200);
  const entries = rows(server, ['AgentRegistered', 'AgentKeyRehashed']);
  const db = openDatabase(join(tempDir(), 'rebuilt.db'));
  const projection = createAgentsProjection(db);
  for (const e of entries) projection.project({ ...e, stream: e.data.uuid, time: Date.now() } as StoredEntry);
  assert.is(findAgent(db, 'legacy-1')?.key_hash, keyHashOf(server, 'legacy-1'));
  db.close();
});

const Pure = suite('AgentKeyRehashed: decision and index mirror');
const row = (key_hash: string) => ({ uuid: 'a1', name: 'a1', key_hash, groups: '[]', registered_at: 0, last_seen: null, last_event_seq: null });

Pure('re-hashes only the hash that was verified', () => {
  assert.equal(decideRehashAgentKey(row('scrypt$old'), 'scrypt$old', 'hmac-sha256$k$m'), [
    { type: 'AgentKeyRehashed', stream: 'a1', actor: 'agent:a1', data: { uuid: 'a1', keyHash: 'hmac-sha256$k$m' } },
  ]);
  assert.equal(decideRehashAgentKey(row('hmac-sha256$k$m'), 'scrypt$old', 'hmac-sha256$k$m'), [], 'already re-hashed');
  assert.equal(decideRehashAgentKey(row('scrypt$other'), 'scrypt$old', 'hmac-sha256$k$m'), [], 're-registered meanwhile');
  assert.equal(decideRehashAgentKey(undefined, 'scrypt$old', 'hmac-sha256$k$m'), [], 'deleted meanwhile');
});

Pure('the agents index document gets the new key_hash (and not a new updated_at)', () => {
  const [a] = indexActions({ seq: 7, time: 0, type: 'AgentKeyRehashed', stream: 'a1', actor: 'agent:a1', data: { uuid: 'a1', keyHash: 'hmac-sha256$k$m' } });
  assert.is(a!.op, 'update');
  assert.is(a!.id, 'a1');
  assert.equal(JSON.parse(a!.lines[1]!), { doc: { uuid: 'a1', key_hash: 'hmac-sha256$k$m', seq: 7 }, doc_as_upsert: true });
});

Keys.run();
Pure.run();
