import type { Db } from '../journal/database.js';

export interface AgentRow {
  uuid: string;
  name: string;
  key_hash: string;
  groups: string;
  registered_at: number;
  last_seen: number | null;
  last_event_seq: number | null;
}

const statements = new WeakMap<Db, ReturnType<typeof prepare>>();
function prepare(db: Db) {
  return {
    find: db.prepare<[string], AgentRow>('SELECT * FROM agents WHERE uuid = ?'),
    revokedAt: db.prepare<[string], { revoked_at: number }>('SELECT revoked_at FROM revoked_agents WHERE uuid = ?'),
  };
}
function stmts(db: Db) {
  let s = statements.get(db);
  if (!s) statements.set(db, (s = prepare(db)));
  return s;
}

export function findAgent(db: Db, uuid: string): AgentRow | undefined {
  return stmts(db).find.get(uuid);
}

/** When the agent's tokens were revoked (it was deleted), in ms, or undefined. */
export function agentRevokedAt(db: Db, uuid: string): number | undefined {
  return stmts(db).revokedAt.get(uuid)?.revoked_at;
}
