import type { Db } from '../journal/database.js';
import type { StoredEntry } from '../journal/entries.js';
import type { Projection } from '../journal/groupCommit.js';

/** Read model of registered agents: credentials, groups, activity. */
export function createAgentsProjection(db: Db): Projection {
  db.exec(`CREATE TABLE IF NOT EXISTS agents (
    uuid           TEXT PRIMARY KEY,
    name           TEXT    NOT NULL,
    key_hash       TEXT    NOT NULL,
    groups         TEXT    NOT NULL DEFAULT '[]',
    registered_at  INTEGER NOT NULL,
    registered_seq INTEGER NOT NULL,
    last_seen      INTEGER,
    last_event_seq INTEGER
  );
  CREATE TABLE IF NOT EXISTS agent_groups (
    agent TEXT NOT NULL REFERENCES agents (uuid) ON DELETE CASCADE,
    grp   TEXT NOT NULL,
    PRIMARY KEY (grp, agent)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS revoked_agents (
    uuid       TEXT PRIMARY KEY,
    revoked_at INTEGER NOT NULL
  );`);
  // Host facts (issue 10 fills them from enrollment and the agents' metadata lines): `type` and
  // `version` of the agent, `host` as JSON ({hostname, architecture, ip[], os{name, version, type, platform?}}).
  const columns = db.prepare<[], { name: string }>('PRAGMA table_info(agents)').all().map((c) => c.name);
  for (const c of ['type', 'version', 'host']) if (!columns.includes(c)) db.exec(`ALTER TABLE agents ADD COLUMN ${c} TEXT`);
  const insert = db.prepare(
    `INSERT INTO agents (uuid, name, key_hash, groups, registered_at, registered_seq) VALUES (?, ?, ?, ?, ?, ?)`,
  );
  const remove = db.prepare('DELETE FROM agents WHERE uuid = ?');
  const revoke = db.prepare(
    'INSERT INTO revoked_agents (uuid, revoked_at) VALUES (?, ?) ON CONFLICT (uuid) DO UPDATE SET revoked_at = excluded.revoked_at',
  );
  const setGroups = db.prepare('UPDATE agents SET groups = ? WHERE uuid = ?');
  const clearGroups = db.prepare('DELETE FROM agent_groups WHERE agent = ?');
  const addGroup = db.prepare('INSERT OR IGNORE INTO agent_groups (agent, grp) VALUES (?, ?)');
  const touch = db.prepare('UPDATE agents SET last_seen = ?, last_event_seq = ? WHERE uuid = ?');

  function replaceGroups(uuid: string, groups: string[]): void {
    setGroups.run(JSON.stringify(groups), uuid);
    clearGroups.run(uuid);
    for (const g of groups) addGroup.run(uuid, g);
  }

  return {
    name: 'agents',
    project(e: StoredEntry): void {
      switch (e.type) {
        case 'AgentRegistered':
          // the revocation stays: tokens issued before the deletion remain refused (auth compares iat)
          insert.run(e.data.uuid, e.data.name, e.data.keyHash, '[]', e.time, e.seq);
          replaceGroups(e.data.uuid, e.data.groups);
          return;
        case 'AgentDeleted':
          remove.run(e.data.uuid);
          revoke.run(e.data.uuid, e.time);
          return;
        case 'AgentGroupsChanged':
          replaceGroups(e.data.uuid, e.data.groups);
          return;
        case 'StatelessEventsReceived':
        case 'StatefulEventsReceived':
          touch.run(e.time, e.seq, e.data.agent);
          return;
        default:
          return;
      }
    },
  };
}
