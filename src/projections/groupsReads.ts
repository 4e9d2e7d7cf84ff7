import { preparedOnce, type Db } from '../journal/database.js';
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

function prepare(db: Db) {
  return {
    get: db.prepare<[string], { configuration: string; etag: string; updated_at: number }>(
      'SELECT configuration, etag, updated_at FROM group_configurations WHERE grp = ?',
    ),
    members: db.prepare<[string], { agent: string }>('SELECT agent FROM agent_groups WHERE grp = ? ORDER BY agent').pluck(),
  };
}
const stmts = preparedOnce(prepare);

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
