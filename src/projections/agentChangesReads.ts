import type { Db } from '../journal/database.js';

const statements = new WeakMap<Db, ReturnType<typeof prepare>>();
function prepare(db: Db) {
  return {
    groupsChangedAt: db.prepare<[string], { at: number | null }>(
      `SELECT max(time) AS at FROM journal WHERE stream = ? AND type IN ('AgentRegistered', 'AgentGroupsChanged')`,
    ),
  };
}
function stmts(db: Db) {
  let s = statements.get(db);
  if (!s) statements.set(db, (s = prepare(db)));
  return s;
}

/**
 * When this node last journaled the agent's groups (registration or change), in ms; undefined when
 * those entries were pruned (pruning only removes entries every sink, the indexer included, has).
 */
export function agentGroupsChangedAt(db: Db, uuid: string): number | undefined {
  return stmts(db).groupsChangedAt.get(uuid)?.at ?? undefined;
}
