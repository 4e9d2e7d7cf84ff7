import type { Db } from '../journal/database.js';
import type { Entry } from '../journal/entries.js';
import type { GroupCommit } from '../journal/groupCommit.js';
import { findAgent, type AgentRow } from '../projections/agentsReads.js';

/**
 * Pure decision: after a successful login that matched the legacy hash `verified`, the agent's
 * stored hash becomes `keyHash` — unless the row changed meanwhile (deleted, re-registered,
 * already re-hashed by a concurrent login): then nothing is written.
 */
export function decideRehashAgentKey(local: AgentRow | undefined, verified: string, keyHash: string): Entry[] {
  if (!local || local.key_hash !== verified || verified === keyHash) return [];
  return [{ type: 'AgentKeyRehashed', stream: local.uuid, actor: `agent:${local.uuid}`, data: { uuid: local.uuid, keyHash } }];
}

/** `rehashAgentKey(deps)(uuid, verified, keyHash)`: journals the re-hash; resolves with whether it was written. */
export function rehashAgentKey(deps: { db: Db; commit: GroupCommit }) {
  return (uuid: string, verified: string, keyHash: string): Promise<boolean> =>
    deps.commit.run((tx) => {
      const entries = decideRehashAgentKey(findAgent(deps.db, uuid), verified, keyHash);
      entries.forEach(tx.append);
      return entries.length > 0;
    });
}
