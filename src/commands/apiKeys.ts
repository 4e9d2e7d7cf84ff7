import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Db } from '../journal/database.js';
import type { Entry } from '../journal/entries.js';
import type { GroupCommit } from '../journal/groupCommit.js';
import { findApiKey } from '../queries/users.js';

export class UnknownApiKeyError extends Error {}

/** The body of `POST /api-keys`. */
export const CreateApiKey = z.object({
  name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._@ -]{0,63}$/, 'letters, digits, ".", "_", "@", "-" or spaces, at most 64'),
  role: z.enum(['operator', 'auditor', 'metrics']),
});
export type CreateApiKey = z.infer<typeof CreateApiKey>;

/** `cak_<id>_<secret>`: the id (12 hex) finds the row, the secret is 32 random bytes (base64url). */
export const API_KEY_PATTERN = /^cak_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/;

/**
 * A key has 256 bits of randomness: a plain SHA-256 cannot be reversed or brute-forced, so a
 * slow password hash would only cost CPU on every request.
 */
export const hashApiKey = (key: string): string => createHash('sha256').update(key).digest('hex');

export function newApiKey(): { id: string; key: string } {
  const id = randomBytes(6).toString('hex');
  return { id, key: `cak_${id}_${randomBytes(32).toString('base64url')}` };
}

export function decideCreateApiKey(cmd: CreateApiKey, id: string, keyHash: string, actor: string): Entry[] {
  return [{ type: 'ApiKeyCreated', stream: `api-key:${id}`, actor, data: { id, name: cmd.name, role: cmd.role, keyHash } }];
}

/** Pure: an unknown key is 404; revoking a revoked key journals nothing. */
export function decideRevokeApiKey(key: { revoked_at: number | null } | undefined, id: string, actor: string): Entry[] {
  if (!key) throw new UnknownApiKeyError(`no API key ${id}`);
  return key.revoked_at !== null ? [] : [{ type: 'ApiKeyRevoked', stream: `api-key:${id}`, actor, data: { id } }];
}

/** Creates a key; the key itself is in the answer only (shown once), the journal keeps its hash. */
export function createApiKey(deps: { commit: GroupCommit }) {
  return async (cmd: CreateApiKey, actor: string): Promise<{ id: string; key: string; name: string; role: string }> => {
    const { id, key } = newApiKey();
    await deps.commit.run((tx) => decideCreateApiKey(cmd, id, hashApiKey(key), actor).forEach(tx.append));
    return { id, key, name: cmd.name, role: cmd.role };
  };
}

export function revokeApiKey(deps: { db: Db; commit: GroupCommit }) {
  return (id: string, actor: string): Promise<void> =>
    deps.commit.run((tx) => {
      decideRevokeApiKey(findApiKey(deps.db, id), id, actor).forEach(tx.append);
    });
}
