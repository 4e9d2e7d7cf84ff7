import { z } from 'zod';
import { failure, type IndexerClient, type IndexerResult } from './indexerClient.js';
import { API_KEYS_INDEX, CATALOG_INDEX, GROUPS_INDEX, USERS_INDEX } from './templates.js';

const isoTime = z.iso.datetime({ offset: true }).transform((s) => Date.parse(s));

/**
 * A `comms-users` document (cluster mode), id = the user's name: the user as every node should
 * know it, or the tombstone of its deletion (kept, so a node that knew the user learns it is gone).
 */
export const UserDoc = z.union([
  z.object({ name: z.string(), deleted: z.literal(true), changed_at: isoTime, changed_by: z.string() }).loose(),
  z.object({
    name: z.string(),
    role: z.enum(['operator', 'auditor']),
    password_hash: z.string(),
    disabled: z.boolean(),
    deleted: z.literal(false).optional(),
    changed_at: isoTime,
    changed_by: z.string(),
  }).loose(),
]);
export type UserDoc = z.infer<typeof UserDoc>;
export type LiveUserDoc = Extract<UserDoc, { password_hash: string }>;

/** A `comms-catalog` document, id = the action name: the definition as `PUT /catalog/{name}` gave it. */
export const CatalogDoc = z.object({
  name: z.string(),
  description: z.string(),
  args: z.record(z.string(), z.unknown()),
  default_timeout: z.number().int(),
  target_types: z.array(z.enum(['agent', 'group', 'all'])).min(1),
  updated_at: isoTime,
  updated_by: z.string(),
});
export type CatalogDoc = z.infer<typeof CatalogDoc>;

/** A `comms-groups` document, id = the group: its configuration and that configuration's ETag. */
export const GroupDoc = z.object({
  group: z.string(),
  configuration: z.record(z.string(), z.unknown()),
  etag: z.string(),
  updated_at: isoTime,
  updated_by: z.string(),
});
export type GroupDoc = z.infer<typeof GroupDoc>;

/** A `comms-api-keys` document, id = the key's id: its SHA-256 (never the key), and `revoked_at` once revoked. */
export const ApiKeyDoc = z.object({
  id: z.string(),
  name: z.string(),
  role: z.enum(['operator', 'auditor', 'metrics']),
  key_hash: z.string(),
  created_at: isoTime,
  created_by: z.string(),
  revoked_at: isoTime.nullable(),
});
export type ApiKeyDoc = z.infer<typeof ApiKeyDoc>;

/** A document with the version OpenSearch gave it (for `if_seq_no` / `if_primary_term`). */
export interface Versioned<T> {
  doc: T | undefined;
  seqNo: number;
  primaryTerm: number;
}

/** How a write is conditioned: on the version read, on the document not existing yet, or not at all. */
export type WriteCondition = { ifSeqNo: number; ifPrimaryTerm: number } | { create: true } | undefined;

export type WriteResult = { ok: true; seqNo: number; primaryTerm: number } | { ok: false; conflict: true } | { ok: false; conflict: false; reason: string };

const GetAnswer = z.object({ found: z.boolean(), _seq_no: z.number().optional(), _primary_term: z.number().optional(), _source: z.unknown().optional() });
const IndexAnswer = z.object({ _seq_no: z.number(), _primary_term: z.number() });

/**
 * Reads and conditional writes of the cluster's shared documents (users, catalogue, groups).
 * Writes refresh the index at once: these are rare operator changes, and the other nodes'
 * followers (searches) then see them on their next poll.
 */
export function createSharedDocs(indexer: Pick<IndexerClient, 'client'>) {
  const { client } = indexer;

  /** Real-time get with the document's version; undefined `found` when there is none (or it is unreadable). */
  async function get<T>(index: string, id: string, schema: z.ZodType<T>): Promise<IndexerResult<Versioned<T> | undefined>> {
    try {
      const r = await client.get({ index, id }, { ignore: [404] });
      const answer = GetAnswer.safeParse(r.body);
      if (!answer.success || !answer.data.found) return { ok: true, value: undefined };
      const doc = schema.safeParse(answer.data._source);
      return { ok: true, value: { doc: doc.success ? doc.data : undefined, seqNo: answer.data._seq_no ?? 0, primaryTerm: answer.data._primary_term ?? 1 } };
    } catch (err) {
      return failure(err);
    }
  }

  async function put(index: string, id: string, source: unknown, condition: WriteCondition): Promise<WriteResult> {
    const params: Record<string, unknown> = { index, id, body: source, refresh: true };
    if (condition && 'create' in condition) params.op_type = 'create';
    else if (condition) Object.assign(params, { if_seq_no: condition.ifSeqNo, if_primary_term: condition.ifPrimaryTerm });
    try {
      const r = await client.index(params as never);
      const answer = IndexAnswer.safeParse(r.body);
      return answer.success ? { ok: true, seqNo: answer.data._seq_no, primaryTerm: answer.data._primary_term } : { ok: true, seqNo: -1, primaryTerm: -1 };
    } catch (err) {
      const f = failure(err);
      if (f.status === 409) return { ok: false, conflict: true };
      return { ok: false, conflict: false, reason: f.reason };
    }
  }

  return {
    user: (name: string) => get(USERS_INDEX, name, UserDoc),
    catalogEntry: (name: string) => get(CATALOG_INDEX, name, CatalogDoc),
    group: (group: string) => get(GROUPS_INDEX, group, GroupDoc),
    apiKey: (id: string) => get(API_KEYS_INDEX, id, ApiKeyDoc),
    putUser: (doc: { name: string } & Record<string, unknown>, condition?: WriteCondition) => put(USERS_INDEX, doc.name, doc, condition),
    putCatalogEntry: (doc: { name: string } & Record<string, unknown>) => put(CATALOG_INDEX, doc.name, doc, undefined),
    putApiKey: (doc: { id: string } & Record<string, unknown>, condition: WriteCondition) => put(API_KEYS_INDEX, doc.id, doc, condition),
    putGroup: (doc: { group: string } & Record<string, unknown>, condition: WriteCondition) => put(GROUPS_INDEX, doc.group, doc, condition),
  };
}
export type SharedDocs = ReturnType<typeof createSharedDocs>;
