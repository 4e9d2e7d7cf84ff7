import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { verifySecret } from './secrets.js';

/**
 * Agent keys are 32 random letters and digits (~190 bits): a memory-hard hash protects
 * low-entropy secrets, not these. They are stored as `hmac-sha256$<key id>$<mac>` (base64url),
 * the MAC keyed by a secret kept outside the database (`<data>/keys/agent-key-secret`, or the
 * file `COMMS_API_AGENT_KEY_SECRET_FILE` names: cluster nodes share it like the token keys).
 * Without the secret a stolen database (or agents index) does not let anyone test keys.
 * Hashes written before (`scrypt$…`) still verify, and the caller re-hashes them on success.
 */
export const AGENT_KEY_SCHEME = 'hmac-sha256';

/** The smallest secret accepted from a configured file (bytes, after trimming). */
const MIN_SECRET_BYTES = 32;

export interface AgentKeyHasher {
  /** `hmac-sha256$<id>$<mac>` of a key. */
  hash(key: string): string;
  /**
   * Whether `key` matches `stored` (undefined: unknown agent, answered false at the cost of a
   * known one); `rehash` is true when it matched a legacy hash that should be replaced.
   */
  verify(key: string, stored: string | undefined): Promise<{ ok: boolean; rehash: boolean }>;
  /** A short id of the secret (the same on every node sharing it). */
  readonly keyId: string;
}

/**
 * The secret: the configured file (read as is, at least 32 bytes), or 32 random bytes generated
 * once into `<data>/keys/agent-key-secret` (0600, folder 0700).
 */
export function loadAgentKeySecret(dataDir: string, file?: string): Buffer {
  if (file) {
    const secret = Buffer.from(readFileSync(file, 'utf8').trim(), 'utf8');
    if (secret.length < MIN_SECRET_BYTES) throw new Error(`agent key secret ${file} is shorter than ${MIN_SECRET_BYTES} bytes`);
    return secret;
  }
  const dir = join(dataDir, 'keys');
  const path = join(dir, 'agent-key-secret');
  if (!existsSync(path)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, path);
  }
  return Buffer.from(readFileSync(path, 'utf8').trim(), 'utf8');
}

export function createAgentKeyHasher(secret: Buffer): AgentKeyHasher {
  const keyId = createHash('sha256').update('comms-api agent key secret id\0').update(secret).digest('base64url').slice(0, 11);
  const mac = (key: string): Buffer => createHmac('sha256', secret).update(key, 'utf8').digest();
  const prefix = `${AGENT_KEY_SCHEME}$${keyId}$`;
  // an unknown agent costs one MAC and one compare, like a known one
  const unknown = Buffer.alloc(32);
  return {
    keyId,
    hash: (key) => `${prefix}${mac(key).toString('base64url')}`,
    async verify(key, stored) {
      if (stored === undefined || stored.startsWith(`${AGENT_KEY_SCHEME}$`)) {
        const computed = mac(key);
        const parts = stored?.split('$');
        const expected = parts && parts.length === 3 && parts[1] === keyId ? Buffer.from(parts[2]!, 'base64url') : unknown;
        const same = expected.length === computed.length && timingSafeEqual(computed, expected);
        return { ok: same && expected !== unknown, rehash: false };
      }
      const ok = await verifySecret(key, stored);
      return { ok, rehash: ok };
    },
  };
}
