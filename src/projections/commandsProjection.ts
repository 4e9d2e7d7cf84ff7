import type { Db } from '../journal/database.js';
import type { EntryOf, StoredEntry } from '../journal/entries.js';
import type { Projection } from '../journal/groupCommit.js';

const VERSION = 4;

/**
 * A command issued to at least this many agents is *wide*: its open targets are left out of the
 * per-agent index (`command_targets_open`), whose inserts land next to every agent's previous
 * keys and so dirty every leaf page; an agent's backlog finds them through `wide_commands`
 * instead (one row per wide command, read while it has not expired).
 */
export const WIDE_TARGETS = 64;

const TABLES = `CREATE TABLE IF NOT EXISTS commands (
    id          TEXT PRIMARY KEY,
    seq         INTEGER NOT NULL,
    action      TEXT    NOT NULL,
    args        TEXT    NOT NULL,
    version     TEXT    NOT NULL,
    target_type TEXT    NOT NULL,
    target_id   TEXT,
    targets     INTEGER NOT NULL,
    issued_at   INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    issued_by   TEXT    NOT NULL
  );
  CREATE TABLE IF NOT EXISTS command_targets (
    command      TEXT    NOT NULL,
    agent        TEXT    NOT NULL,
    seq          INTEGER NOT NULL,
    state        TEXT    NOT NULL,
    expires_at   INTEGER NOT NULL,
    delivered_at INTEGER,
    finished_at  INTEGER,
    code         INTEGER,
    message      TEXT,
    result       TEXT,
    wide         INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (command, agent)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS command_targets_open ON command_targets (agent, seq) WHERE state IN ('pending', 'delivered') AND wide = 0;
  CREATE TABLE IF NOT EXISTS wide_commands (
    expires_at INTEGER NOT NULL,
    command    TEXT    NOT NULL,
    PRIMARY KEY (expires_at, command)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS command_targets_deadline ON command_targets (expires_at) WHERE state IN ('pending', 'delivered');
  CREATE TABLE IF NOT EXISTS command_events (
    id      INTEGER PRIMARY KEY,
    seq     INTEGER NOT NULL,
    time    INTEGER NOT NULL,
    command TEXT    NOT NULL,
    agent   TEXT,
    action  TEXT    NOT NULL,
    type    TEXT    NOT NULL,
    state   TEXT    NOT NULL,
    actor   TEXT    NOT NULL,
    fanout  INTEGER NOT NULL DEFAULT 0,
    code    INTEGER,
    message TEXT
  );
  CREATE INDEX IF NOT EXISTS command_events_command ON command_events (command, id);
  CREATE INDEX IF NOT EXISTS command_events_agent ON command_events (agent, id);
  CREATE INDEX IF NOT EXISTS command_events_actor ON command_events (actor, id);
  CREATE INDEX IF NOT EXISTS command_events_action ON command_events (action, id);
  CREATE INDEX IF NOT EXISTS command_events_time ON command_events (time, id);
  CREATE INDEX IF NOT EXISTS command_events_fanout ON command_events (id) WHERE fanout = 1;`;

/**
 * Version 1 keyed targets by (agent, command) and wrote one issue row per target: rebuilt in
 * place, in one transaction, keeping every row (the journal may have been pruned since).
 */
const FROM_V1 = `ALTER TABLE command_targets RENAME TO command_targets_v1;
  DROP INDEX IF EXISTS command_targets_command;
  DROP INDEX IF EXISTS command_targets_open;
  DROP INDEX IF EXISTS command_targets_deadline;
  ALTER TABLE command_events ADD COLUMN fanout INTEGER NOT NULL DEFAULT 0;`;
const COPY_V1 = `INSERT INTO command_targets (command, agent, seq, state, expires_at, delivered_at, finished_at, code, message, result)
    SELECT command, agent, seq, state, expires_at, delivered_at, finished_at, code, message, result FROM command_targets_v1 ORDER BY command, agent;
  DROP TABLE command_targets_v1;`;

/** Version 2 had no wide commands: every open target stays in the per-agent index (wide = 0). */
const FROM_V2 = `ALTER TABLE command_targets ADD COLUMN wide INTEGER NOT NULL DEFAULT 0;
  DROP INDEX IF EXISTS command_targets_open;`;

/** Versions 1–3 had no outcome (code, message) in history rows: added empty, as older results had none there. */
function addOutcomeColumns(db: Db): void {
  const have = new Set(db.prepare<[], { name: string }>("SELECT name FROM pragma_table_info('command_events')").all().map((c) => c.name));
  if (!have.has('code')) db.exec('ALTER TABLE command_events ADD COLUMN code INTEGER');
  if (!have.has('message')) db.exec('ALTER TABLE command_events ADD COLUMN message TEXT');
}

/** Creates the tables, or brings a data folder of an older version to this one. */
function createTables(db: Db): void {
  db.exec('CREATE TABLE IF NOT EXISTS projection_versions (name TEXT PRIMARY KEY, version INTEGER NOT NULL)');
  const row = db.prepare<[], { version: number }>("SELECT version FROM projection_versions WHERE name = 'commands'").get();
  if (row?.version === VERSION) {
    db.exec(TABLES);
    return;
  }
  const hasTargets = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'command_targets'").get() !== undefined;
  db.transaction(() => {
    const v1 = row === undefined && hasTargets;
    if (v1) db.exec(FROM_V1);
    if (row?.version === 2) db.exec(FROM_V2);
    db.exec(TABLES);
    addOutcomeColumns(db);
    if (v1) db.exec(COPY_V1);
    db.prepare("INSERT OR REPLACE INTO projection_versions (name, version) VALUES ('commands', ?)").run(VERSION);
  }).immediate();
}

/**
 * Read models of commands: `commands` (one row per command), `command_targets` (each target
 * agent's state: pending → delivered → success | failure | expired; keyed by command so that a
 * broadcast appends its targets in one place of the B-tree), `wide_commands` (see WIDE_TARGETS)
 * and `command_events` (the audit history's index, in journal order: one row per state change and
 * agent, except that issuing or importing a command is one row with `fanout = 1` for all its
 * targets, which the history query expands from `command_targets` rows of the same seq).
 */
/** The entry types this read model has nothing to do with (the switch below fails to compile when a new one is not decided on). */
type PassedOver = 'AgentRegistered' | 'AgentFactsReported' | 'AgentDeleted' | 'AgentGroupsChanged' | 'AgentKeyRehashed' | 'UserCreated' | 'UserDisabled' | 'UserEnabled' | 'UserDeleted' | 'ApiKeyCreated' | 'ApiKeyRevoked' | 'StatelessEventsReceived' | 'StatefulEventsReceived' | 'CatalogEntryPut' | 'GroupConfigurationPut' | 'PackageUploaded' | 'PackageDeleted' | 'DeadLetterRetried' | 'DeadLetterDiscarded' | 'JournalPruned';

export function createCommandsProjection(db: Db): Projection {
  createTables(db);

  const s = {
    command: db.prepare(
      `INSERT OR IGNORE INTO commands (id, seq, action, args, version, target_type, target_id, targets, issued_at, expires_at, issued_by)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    /** Every target of an entry in one statement (a JSON array of agents): no call per agent. */
    targets: db.prepare<[string, number, number, number, string]>(
      `INSERT OR IGNORE INTO command_targets (command, agent, seq, state, expires_at, wide)
       SELECT ?, value, ?, 'pending', ?, ? FROM json_each(?)`,
    ),
    wide: db.prepare<[number, string]>('INSERT OR IGNORE INTO wide_commands (expires_at, command) VALUES (?, ?)'),
    delivered: db.prepare(
      `UPDATE command_targets SET state = 'delivered', delivered_at = ? WHERE agent = ? AND command = ? AND state = 'pending'`,
    ),
    finished: db.prepare(
      `UPDATE command_targets SET state = ?, finished_at = ?, code = ?, message = ?, result = ?
       WHERE agent = ? AND command = ? AND state IN ('pending', 'delivered')`,
    ),
    action: db.prepare<[string], { action: string }>('SELECT action FROM commands WHERE id = ?'),
    event: db.prepare(
      'INSERT INTO command_events (seq, time, command, agent, action, type, state, actor, code, message) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    fanout: db.prepare(
      'INSERT INTO command_events (seq, time, command, agent, action, type, state, actor, fanout) VALUES (?, ?, ?, NULL, ?, ?, ?, ?, 1)',
    ),
  };

  function addTargets(id: string, seq: number, expiresAt: number, agents: readonly string[]): void {
    if (agents.length === 0) return;
    const wide = agents.length >= WIDE_TARGETS;
    s.targets.run(id, seq, expiresAt, wide ? 1 : 0, JSON.stringify(agents));
    if (wide) s.wide.run(expiresAt, id);
  }

  /** The command row (shared by every import of one command), its targets, one history row for them. */
  function stored(
    e: (EntryOf<'CommandIssued'> | EntryOf<'CommandImported'>) & StoredEntry,
    issuer: string,
  ): void {
    const d = e.data;
    s.command.run(
      d.id, e.seq, d.action.name, JSON.stringify(d.action.args ?? {}), d.action.version,
      d.target.type, d.target.id ?? null, d.agents.length, d.issuedAt, d.expiresAt, issuer,
    );
    addTargets(d.id, e.seq, d.expiresAt, d.agents);
    if (d.agents.length > 0) s.fanout.run(e.seq, e.time, d.id, d.action.name, e.type, 'pending', e.actor);
  }

  function issued(e: EntryOf<'CommandIssued'> & StoredEntry): void {
    stored(e, e.actor);
    const d = e.data;
    if (d.agents.length === 0) s.event.run(e.seq, e.time, d.id, null, d.action.name, e.type, 'pending', e.actor, null, null);
  }

  /** Only the imported targets: the command row is shared by every import of the same command. */
  function imported(e: EntryOf<'CommandImported'> & StoredEntry): void {
    stored(e, e.data.issuedBy);
  }

  function observed(e: EntryOf<'CommandStateObserved'> & StoredEntry): void {
    const d = e.data;
    if (d.state === 'delivered') s.delivered.run(d.at, d.agent, d.id);
    else {
      const result = d.result === undefined ? null : JSON.stringify(d.result);
      s.finished.run(d.state, d.at, d.code ?? null, d.message ?? null, result, d.agent, d.id);
    }
    changed(e, d.state, d);
  }

  // A broadcast's deliveries come in runs of the same command: its action (never changed once
  // stored) is read once per run; a command not stored yet is not remembered.
  let lastAction: { id: string; action: string } | null = null;
  function actionOf(id: string): string {
    if (lastAction?.id === id) return lastAction.action;
    const action = s.action.get(id)?.action;
    if (action === undefined) return '';
    lastAction = { id, action };
    return action;
  }

  function changed(e: StoredEntry & { data: { id: string; agent: string } }, state: string, outcome: { code?: number | undefined; message?: string | undefined } = {}): void {
    const action = actionOf(e.data.id);
    s.event.run(e.seq, e.time, e.data.id, e.data.agent, action, e.type, state, e.actor, outcome.code ?? null, outcome.message ?? null);
  }

  function finished(e: EntryOf<'CommandSucceeded' | 'CommandFailed'> & StoredEntry, state: 'success' | 'failure'): void {
    const d = e.data;
    const result = d.result === undefined ? null : JSON.stringify(d.result);
    s.finished.run(state, e.time, d.code ?? null, d.message ?? null, result, d.agent, d.id);
    changed(e, state, d);
  }

  return {
    name: 'commands',
    project(e: StoredEntry): void {
      switch (e.type) {
        case 'CommandIssued':
          return issued(e);
        case 'CommandDelivered':
          s.delivered.run(e.time, e.data.agent, e.data.id);
          return changed(e, 'delivered');
        case 'CommandsDelivered':
          // one history row per agent, as if each had its own CommandDelivered
          for (const agent of e.data.agents) {
            s.delivered.run(e.time, agent, e.data.id);
            changed({ ...e, type: 'CommandDelivered', actor: `agent:${agent}`, data: { id: e.data.id, agent } } as StoredEntry & { data: { id: string; agent: string } }, 'delivered');
          }
          return;
        case 'CommandSucceeded':
          return finished(e, 'success');
        case 'CommandFailed':
          return finished(e, 'failure');
        case 'CommandExpired':
          s.finished.run('expired', e.time, null, null, null, e.data.agent, e.data.id);
          return changed(e, 'expired');
        case 'CommandCancelled':
          s.finished.run('cancelled', e.time, null, e.data.reason ?? null, null, e.data.agent, e.data.id);
          return changed(e, 'cancelled', { message: e.data.reason });
        case 'CommandImported':
          return imported(e);
        case 'CommandStateObserved':
          return observed(e);
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
