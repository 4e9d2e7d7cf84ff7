import type { Db } from '../journal/database.js';
import type { Entry } from '../journal/entries.js';
import type { GroupCommit } from '../journal/groupCommit.js';
import { findAgent, type AgentRow } from '../projections/agentsReads.js';
import { INDEXER_ACTOR, type RegisteredAgentDoc } from '../indexer/indexedDocs.js';

/**
 * Pure decision (scale-out): an agent registered on another node, read from the agents index,
 * becomes known here as an `AgentRegistered` by the actor `indexer` (never mirrored back). An
 * agent this node already knows is not imported again.
 */
export function decideImportAgent(local: AgentRow | undefined, doc: RegisteredAgentDoc): Entry[] {
  if (local) return [];
  return [
    {
      type: 'AgentRegistered',
      stream: doc.uuid,
      actor: INDEXER_ACTOR,
      data: { uuid: doc.uuid, name: doc.name, groups: [...new Set(doc.groups)], keyHash: doc.key_hash },
    },
  ];
}

/**
 * Whether a token issued at `iatMs` can belong to the registration the index holds: not to an
 * earlier registration of the same uuid (the token's second is compared, as tokens count seconds).
 */
export function tokenFitsRegistration(doc: RegisteredAgentDoc, iatMs: number, revokedAt: number | undefined): boolean {
  if (revokedAt !== undefined && revokedAt >= iatMs) return false;
  return Math.floor(doc.registered_at / 1000) * 1000 <= iatMs;
}

/** Journals the imports of agents not known here, in one transaction; resolves with how many were new. */
export function importAgents(deps: { db: Db; commit: GroupCommit }) {
  return (docs: readonly RegisteredAgentDoc[]): Promise<number> =>
    deps.commit.run((tx) => {
      let n = 0;
      for (const doc of docs) {
        for (const e of decideImportAgent(findAgent(deps.db, doc.uuid), doc)) {
          tx.append(e);
          n += 1;
        }
      }
      return n;
    });
}

/** `importAgent(deps)(doc)`: journals the import unless the agent is known by then; resolves with the local row. */
export function importAgent(deps: { db: Db; commit: GroupCommit }) {
  return (doc: RegisteredAgentDoc): Promise<AgentRow | undefined> =>
    deps.commit.run((tx) => {
      decideImportAgent(findAgent(deps.db, doc.uuid), doc).forEach(tx.append);
      return findAgent(deps.db, doc.uuid);
    });
}
