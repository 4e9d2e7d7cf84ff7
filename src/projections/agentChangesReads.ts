import { preparedOnce, type Db } from '../journal/database.js';

function prepare(db: Db) {
  return {
    groupsChangedAt: db.prepare<[string], { at: number | null }>(
      `SELECT max(time) AS at FROM journal WHERE stream = ? AND type IN ('AgentRegistered', 'AgentGroupsChanged')`,
    ),
  };
}
const stmts = preparedOnce(prepare);

/**
 * When this node last journaled the agent's groups (registration or change), in ms; undefined when
 * those entries were pruned (pruning only removes entries every sink, the indexer included, has).
 */
export function agentGroupsChangedAt(db: Db, uuid: string): number | undefined {
  return stmts(db).groupsChangedAt.get(uuid)?.at ?? undefined;
}
