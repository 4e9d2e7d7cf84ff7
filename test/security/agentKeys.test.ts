import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createAgentKeyHasher, loadAgentKeySecret } from '../../src/security/agentKeys.js';
import { hashSecret } from '../../src/security/secrets.js';
import { AGENT_KEY, tempDir } from '../support/server.js';

const secret = Buffer.from('s'.repeat(43));

test('a key hashes to hmac-sha256$<key id>$<mac>, verified without re-hashing', async () => {
  const h = createAgentKeyHasher(secret);
  const stored = h.hash(AGENT_KEY);
  assert.match(stored, /^hmac-sha256\$[A-Za-z0-9_-]{11}\$[A-Za-z0-9_-]{43}$/);
  assert.is(stored, h.hash(AGENT_KEY), 'deterministic: another node with the same secret computes the same');
  assert.equal(await h.verify(AGENT_KEY, stored), { ok: true, rehash: false });
  assert.equal(await h.verify('x'.repeat(32), stored), { ok: false, rehash: false });
});

test('an unknown agent, a hash by another secret or a damaged hash is refused', async () => {
  const h = createAgentKeyHasher(secret);
  const other = createAgentKeyHasher(Buffer.from('t'.repeat(43)));
  assert.equal(await h.verify(AGENT_KEY, undefined), { ok: false, rehash: false });
  assert.equal(await h.verify(AGENT_KEY, other.hash(AGENT_KEY)), { ok: false, rehash: false });
  assert.equal(await h.verify(AGENT_KEY, 'hmac-sha256$'), { ok: false, rehash: false });
  assert.equal(await h.verify(AGENT_KEY, `${h.hash(AGENT_KEY)}$extra`), { ok: false, rehash: false });
  assert.equal(await h.verify(AGENT_KEY, 'nonsense'), { ok: false, rehash: false });
});

test('a legacy scrypt hash still verifies, and asks to be re-hashed', async () => {
  const h = createAgentKeyHasher(secret);
  const legacy = await hashSecret(AGENT_KEY);
  assert.equal(await h.verify(AGENT_KEY, legacy), { ok: true, rehash: true });
  assert.equal(await h.verify('x'.repeat(32), legacy), { ok: false, rehash: false });
});

test('an unknown uuid costs what a known one costs (one MAC, no scrypt)', async () => {
  const h = createAgentKeyHasher(secret);
  const stored = h.hash(AGENT_KEY);
  const time = async (f: () => Promise<unknown>) => {
    const t = process.hrtime.bigint();
    for (let i = 0; i < 2000; i++) await f();
    return Number(process.hrtime.bigint() - t) / 2000 / 1000;
  };
  const known = await time(() => h.verify(AGENT_KEY, stored));
  const unknown = await time(() => h.verify(AGENT_KEY, undefined));
  // generous: both are a few microseconds; scrypt would be tens of milliseconds
  assert.ok(known < 1000 && unknown < 1000, `known ${known} µs, unknown ${unknown} µs`);
});

test('the secret is generated once into <data>/keys/agent-key-secret, private', () => {
  const dir = tempDir();
  const a = loadAgentKeySecret(dir);
  const b = loadAgentKeySecret(dir);
  assert.ok(a.length >= 32);
  assert.ok(a.equals(b));
  assert.is(statSync(join(dir, 'keys/agent-key-secret')).mode & 0o777, 0o600);
  assert.is(statSync(join(dir, 'keys')).mode & 0o777, 0o700);
});

test('a configured secret file is used as is; a short one is refused', () => {
  const dir = tempDir();
  mkdirSync(join(dir, 'shared'));
  const file = join(dir, 'shared/secret');
  writeFileSync(file, `${'k'.repeat(40)}\n`, { mode: 0o600 });
  assert.is(loadAgentKeySecret(join(dir, 'a'), file).toString(), 'k'.repeat(40));
  assert.equal(createAgentKeyHasher(loadAgentKeySecret(join(dir, 'a'), file)).hash(AGENT_KEY), createAgentKeyHasher(loadAgentKeySecret(join(dir, 'b'), file)).hash(AGENT_KEY));
  writeFileSync(file, 'short');
  assert.throws(() => loadAgentKeySecret(dir, file), /shorter than 32 bytes/);
});

test.run();
