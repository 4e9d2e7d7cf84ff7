import type { IndexReader, RegisteredAgentDoc } from '../indexer/indexedDocs.js';

export type IndexedAgentResult = { ok: true; agent: RegisteredAgentDoc | undefined } | { ok: false; reason: string };

/**
 * An agent as the shared agents index knows it (scale-out): its registration with the key hash,
 * or undefined when the index has no such agent or holds its deletion's tombstone. A real-time
 * get: a registration made on another node a moment ago is already there.
 */
export async function findIndexedAgent(reader: IndexReader, uuid: string): Promise<IndexedAgentResult> {
  const r = await reader.agent(uuid);
  if (!r.ok) return { ok: false, reason: r.reason };
  const doc = r.value;
  if (!doc || doc.deleted || doc.uuid !== uuid) return { ok: true, agent: undefined };
  return { ok: true, agent: doc };
}
