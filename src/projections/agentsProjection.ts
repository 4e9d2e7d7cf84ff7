import type { Db } from '../journal/database.js';
import type { StoredEntry } from '../journal/entries.js';
import type { Projection } from '../journal/groupCommit.js';

/** Data folders from before host facts: the columns are added empty. */
function addFactsColumns(db: Db): void {
  const have = new Set(db.prepare<[], { name: string }>("SELECT name FROM pragma_table_info('agents')").all().map((c) => c.name));
  for (const c of ['type', 'version', 'host']) if (!have.has(c)) db.exec(`ALTER TABLE agents ADD COLUMN ${c} TEXT`);
}

const facts = (d: { type?: string | undefined; version?: string | undefined; host?: unknown }): [string | null, string | null, string | null] => [
  d.type ?? null,
  d.version ?? null,
  d.host === undefined ? null : JSON.stringify(d.host),
];

/** The entry types this read model has nothing to do with (the switch below fails to compile when a new one is not decided on). */
type PassedOver = 'UserCreated' | 'UserDisabled' | 'UserEnabled' | 'UserDeleted' | 'ApiKeyCreated' | 'ApiKeyRevoked' | 'CatalogEntryPut' | 'CommandIssued' | 'CommandDelivered' | 'CommandsDelivered' | 'CommandSucceeded' | 'CommandFailed' | 'CommandExpired' | 'CommandCancelled' | 'CommandImported' | 'CommandStateObserved' | 'GroupConfigurationPut' | 'PackageUploaded' | 'PackageDeleted' | 'DeadLetterRetried' | 'DeadLetterDiscarded' | 'JournalPruned';

/** Read model of registered agents: credentials, groups, host facts, activity. */
export function createAgentsProjection(db: Db): Projection {
  db.exec(`CREATE TABLE IF NOT EXISTS agents (
    uuid           TEXT PRIMARY KEY,
    name           TEXT    NOT NULL,
    key_hash       TEXT    NOT NULL,
    groups         TEXT    NOT NULL DEFAULT '[]',
    registered_at  INTEGER NOT NULL,
    registered_seq INTEGER NOT NULL,
    last_seen      INTEGER,
    last_event_seq INTEGER,
    type           TEXT,
    version        TEXT,
    host           TEXT
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
  addFactsColumns(db);
  const insert = db.prepare(
    `INSERT INTO agents (uuid, name, key_hash, groups, registered_at, registered_seq, type, version, host) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const setFacts = db.prepare('UPDATE agents SET type = ?, version = ?, host = ? WHERE uuid = ?');
  const remove = db.prepare('DELETE FROM agents WHERE uuid = ?');
  const revoke = db.prepare(
    'INSERT INTO revoked_agents (uuid, revoked_at) VALUES (?, ?) ON CONFLICT (uuid) DO UPDATE SET revoked_at = excluded.revoked_at',
  );
  const setKeyHash = db.prepare('UPDATE agents SET key_hash = ? WHERE uuid = ?');
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
          insert.run(e.data.uuid, e.data.name, e.data.keyHash, '[]', e.time, e.seq, ...facts(e.data));
          replaceGroups(e.data.uuid, e.data.groups);
          return;
        case 'AgentKeyRehashed':
          setKeyHash.run(e.data.keyHash, e.data.uuid);
          return;
        case 'AgentFactsReported':
          setFacts.run(...facts(e.data), e.data.uuid);
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
        default: {
          // passed over on purpose: a new entry type is handled above or named in PassedOver
          const passedOver: PassedOver = e.type;
          void passedOver;
          return;
        }
      }
    },
  };
}
