import type { Db } from '../journal/database.js';
import { contentEtag } from './etag.js';

export interface GroupConfiguration {
  group: string;
  configuration: Record<string, unknown>;
  etag: string;
  /** False for a group that never had a configuration (it is then `{}`). */
  exists: boolean;
  updated_at: string | null;
}

/** The ETag of a group with no configuration yet: that of `{}`. */
export const EMPTY_CONFIGURATION_ETAG = contentEtag({});

const statements = new WeakMap<Db, ReturnType<typeof prepare>>();
function prepare(db: Db) {
  return {
    get: db.prepare<[string], { configuration: string; etag: string; updated_at: number }>(
      'SELECT configuration, etag, updated_at FROM group_configurations WHERE grp = ?',
    ),
    list: db.prepare<[], { grp: string; agents: number; etag: string | null; updated_at: number | null }>(
      `SELECT n.grp, (SELECT count(*) FROM agent_groups m WHERE m.grp = n.grp) AS agents, c.etag, c.updated_at
       FROM (SELECT grp FROM agent_groups UNION SELECT grp FROM group_configurations) n
       LEFT JOIN group_configurations c ON c.grp = n.grp ORDER BY n.grp`,
    ),
    members: db.prepare<[string], { agent: string }>('SELECT agent FROM agent_groups WHERE grp = ? ORDER BY agent').pluck(),
  };
}
function stmts(db: Db) {
  let s = statements.get(db);
  if (!s) statements.set(db, (s = prepare(db)));
  return s;
}

export function groupConfiguration(db: Db, group: string): GroupConfiguration {
  const row = stmts(db).get.get(group);
  if (!row) return { group, configuration: {}, etag: EMPTY_CONFIGURATION_ETAG, exists: false, updated_at: null };
  return {
    group,
    configuration: JSON.parse(row.configuration) as Record<string, unknown>,
    etag: row.etag,
    exists: true,
    updated_at: new Date(row.updated_at).toISOString(),
  };
}

/** The uuids of the group's agents. */
export function groupMembers(db: Db, group: string): string[] {
  return stmts(db).members.all(group) as unknown as string[];
}

/** Every group that has members or a configuration, with its member count and ETag. */
export function listGroups(db: Db): Array<{ group: string; agents: number; configured: boolean; etag: string; updated_at: string | null }> {
  return stmts(db)
    .list.all()
    .map((r) => ({
      group: r.grp,
      agents: r.agents,
      configured: r.etag !== null,
      etag: r.etag ?? EMPTY_CONFIGURATION_ETAG,
      updated_at: r.updated_at === null ? null : new Date(r.updated_at).toISOString(),
    }));
}
