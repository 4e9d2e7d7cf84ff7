import type { Db } from '../journal/database.js';
import type { Entry } from '../journal/entries.js';
import type { GroupCommit } from '../journal/groupCommit.js';
import { findAgent, type AgentRow } from '../queries/agents.js';
import { INDEXER_ACTOR } from '../transport/indexer/indexedDocs.js';

export interface AgentTombstone {
  uuid: string;
  deletedAt: number;
}

/**
 * Pure decision (scale-out): an agent deleted on another node (its tombstone in the agents index)
 * is deleted here too, by the actor `indexer`: its tokens are revoked and its streams closed. A
 * tombstone older than this node's registration of the uuid is an earlier life of the agent.
 */
export function decideForgetDeletedAgent(local: AgentRow | undefined, tomb: AgentTombstone): Entry[] {
  if (!local || tomb.deletedAt < local.registered_at) return [];
  return [{ type: 'AgentDeleted', stream: tomb.uuid, actor: INDEXER_ACTOR, data: { uuid: tomb.uuid } }];
}

/** Journals the deletions of a batch of tombstones in one transaction; resolves with how many were new here. */
export function forgetDeletedAgents(deps: { db: Db; commit: GroupCommit }) {
  return (tombs: readonly AgentTombstone[]): Promise<number> =>
    deps.commit.run((tx) => {
      let n = 0;
      for (const t of tombs) {
        for (const e of decideForgetDeletedAgent(findAgent(deps.db, t.uuid), t)) {
          tx.append(e);
          n += 1;
        }
      }
      return n;
    });
}
