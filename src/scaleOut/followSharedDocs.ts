import type { Entry } from '../journal/entries.js';
import { INDEXER_ACTOR } from '../indexer/indexedDocs.js';
import type { ApiKeyDoc, CatalogDoc, GroupDoc, UserDoc } from '../indexer/sharedDocs.js';
import type { CatalogEntryDto } from '../projections/catalogReads.js';
import { canonicalJson } from '../projections/etag.js';
import type { GroupConfiguration } from '../projections/groupsReads.js';
import type { ApiKeyRow, UserRow } from '../projections/usersReads.js';

/**
 * Pure decisions (cluster mode) for the shared documents of users, the catalogue and group
 * configurations: the index holds the cluster's current version, and a node journals, by the
 * actor `indexer`, what makes its own read model equal to it. Nothing when they are equal
 * already (this node's own writes, read back), so following is idempotent.
 */

/** The users index document of `name` against this node's user row. */
export function decideFollowUserDoc(doc: UserDoc, local: UserRow | undefined): Entry[] {
  const stream = `user:${doc.name}`;
  const data = { name: doc.name };
  if (doc.deleted) return local ? [{ type: 'UserDeleted', stream, actor: INDEXER_ACTOR, data }] : [];
  const out: Entry[] = [];
  if (!local || local.role !== doc.role || local.password_hash !== doc.password_hash) {
    out.push({ type: 'UserCreated', stream, actor: INDEXER_ACTOR, data: { ...data, role: doc.role, passwordHash: doc.password_hash } });
  }
  // UserCreated keeps the disabled state of an existing row (a new row is enabled)
  const disabledHere = local?.disabled === 1;
  if (doc.disabled !== disabledHere) out.push({ type: doc.disabled ? 'UserDisabled' : 'UserEnabled', stream, actor: INDEXER_ACTOR, data });
  return out;
}

/** The users index document a node writes for a user as it is after a change (a tombstone for a deletion). */
export function userDocOf(name: string, user: { role: string; passwordHash: string; disabled: boolean } | 'deleted', at: number, by: string) {
  const base = { name, changed_at: new Date(at).toISOString(), changed_by: by };
  return user === 'deleted'
    ? { ...base, deleted: true }
    : { ...base, role: user.role, password_hash: user.passwordHash, disabled: user.disabled, deleted: false };
}

const sameDefinition = (doc: CatalogDoc, local: CatalogEntryDto): boolean =>
  doc.description === local.description &&
  doc.default_timeout === local.default_timeout &&
  canonicalJson(doc.args) === canonicalJson(local.args) &&
  canonicalJson(doc.target_types) === canonicalJson(local.target_types);

/** The catalogue index document of an action against this node's definition. */
export function decideFollowCatalogDoc(doc: CatalogDoc, local: CatalogEntryDto | undefined): Entry[] {
  if (local && sameDefinition(doc, local)) return [];
  return [
    {
      type: 'CatalogEntryPut',
      stream: `catalog:${doc.name}`,
      actor: INDEXER_ACTOR,
      data: { name: doc.name, description: doc.description, args: doc.args, defaultTimeout: doc.default_timeout, targetTypes: doc.target_types },
    },
  ];
}

/** The groups index document of a group against this node's configuration of it (same ETag: same content). */
export function decideFollowGroupDoc(doc: GroupDoc, local: GroupConfiguration): Entry[] {
  if (local.exists && local.etag === doc.etag) return [];
  return [
    {
      type: 'GroupConfigurationPut',
      stream: `group:${doc.group}`,
      actor: INDEXER_ACTOR,
      data: { group: doc.group, configuration: doc.configuration, etag: doc.etag },
    },
  ];
}

/** The API keys index document of a key against this node's row: created (with its creator), then revoked. */
export function decideFollowApiKeyDoc(doc: ApiKeyDoc, local: Pick<ApiKeyRow, 'revoked_at'> | undefined): Entry[] {
  const stream = `api-key:${doc.id}`;
  const out: Entry[] = [];
  if (!local) {
    out.push({
      type: 'ApiKeyCreated',
      stream,
      actor: INDEXER_ACTOR,
      data: { id: doc.id, name: doc.name, role: doc.role, keyHash: doc.key_hash, createdBy: doc.created_by, createdAt: doc.created_at },
    });
  }
  if (doc.revoked_at !== null && (local?.revoked_at ?? null) === null) out.push({ type: 'ApiKeyRevoked', stream, actor: INDEXER_ACTOR, data: { id: doc.id } });
  return out;
}

/** The API keys index document of a key a node creates. */
export const apiKeyDocOf = (key: { id: string; name: string; role: string; keyHash: string }, at: number, by: string) => ({
  id: key.id,
  name: key.name,
  role: key.role,
  key_hash: key.keyHash,
  created_at: new Date(at).toISOString(),
  created_by: by,
  revoked_at: null as string | null,
});
