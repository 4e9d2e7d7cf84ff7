import type { Db } from '../journal/database.js';
import type { Entry } from '../journal/entries.js';
import type { GroupCommit } from '../journal/groupCommit.js';
import { agentGroupsChangedAt } from '../projections/agentChangesReads.js';
import { findAgent, type AgentRow } from '../projections/agentsReads.js';
import { INDEXER_ACTOR, type AgentDoc } from '../indexer/indexedDocs.js';

const sameGroups = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((g, i) => g === b[i]);

/**
 * Pure decision (scale-out) for one followed document of the agents index, about an agent this
 * node knows (others are none of its business), by the actor `indexer`:
 * - a tombstone newer than this node's registration of the uuid: AgentDeleted (tokens revoked,
 *   streams closed); an older one is an earlier life of the agent;
 * - other groups, written after this node last set them (`updated_at` > `localGroupsAt`):
 *   AgentGroupsChanged (its streams get the new configuration). A document older than this node's
 *   own change is that change not mirrored yet, and is left alone.
 */
export function decideFollowAgentDoc(doc: AgentDoc, local: AgentRow | undefined, localGroupsAt: number | undefined): Entry[] {
  if (!local) return [];
  if (doc.deleted) {
    if (doc.deleted_at < local.registered_at) return [];
    return [{ type: 'AgentDeleted', stream: doc.uuid, actor: INDEXER_ACTOR, data: { uuid: doc.uuid } }];
  }
  const groups = [...new Set(doc.groups)];
  if (sameGroups(groups, JSON.parse(local.groups) as string[])) return [];
  if ((doc.updated_at ?? doc.registered_at) <= (localGroupsAt ?? 0)) return [];
  return [{ type: 'AgentGroupsChanged', stream: doc.uuid, actor: INDEXER_ACTOR, data: { uuid: doc.uuid, groups } }];
}

/** Journals what a batch of followed agents documents means here, in one transaction; resolves with the entries written. */
export function followAgentsIndex(deps: { db: Db; commit: GroupCommit }) {
  return (docs: readonly AgentDoc[]): Promise<number> =>
    deps.commit.run((tx) => {
      let n = 0;
      for (const doc of docs) {
        const local = findAgent(deps.db, doc.uuid);
        for (const e of decideFollowAgentDoc(doc, local, local ? agentGroupsChangedAt(deps.db, doc.uuid) : undefined)) {
          tx.append(e);
          n += 1;
        }
      }
      return n;
    });
}
