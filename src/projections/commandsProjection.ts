import type { Db } from '../journal/database.js';
import type { EntryOf, StoredEntry } from '../journal/entries.js';
import type { Projection } from '../journal/groupCommit.js';

/**
 * Read models of commands: `commands` (one row per command), `command_targets` (each target
 * agent's state: pending → delivered → success | failure | expired) and `command_events`
 * (one row per state change and agent, in journal order: the audit history's index).
 */
export function createCommandsProjection(db: Db): Projection {
  db.exec(`CREATE TABLE IF NOT EXISTS commands (
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
    agent        TEXT    NOT NULL,
    command      TEXT    NOT NULL,
    seq          INTEGER NOT NULL,
    state        TEXT    NOT NULL,
    expires_at   INTEGER NOT NULL,
    delivered_at INTEGER,
    finished_at  INTEGER,
    code         INTEGER,
    message      TEXT,
    result       TEXT,
    PRIMARY KEY (agent, command)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS command_targets_command ON command_targets (command, agent);
  CREATE INDEX IF NOT EXISTS command_targets_open ON command_targets (agent, seq) WHERE state IN ('pending', 'delivered');
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
    actor   TEXT    NOT NULL
  );
  CREATE INDEX IF NOT EXISTS command_events_command ON command_events (command, id);
  CREATE INDEX IF NOT EXISTS command_events_agent ON command_events (agent, id);
  CREATE INDEX IF NOT EXISTS command_events_actor ON command_events (actor, id);
  CREATE INDEX IF NOT EXISTS command_events_action ON command_events (action, id);
  CREATE INDEX IF NOT EXISTS command_events_time ON command_events (time, id);`);

  const s = {
    command: db.prepare(
      `INSERT OR IGNORE INTO commands (id, seq, action, args, version, target_type, target_id, targets, issued_at, expires_at, issued_by)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    target: db.prepare(
      `INSERT OR IGNORE INTO command_targets (agent, command, seq, state, expires_at) VALUES (?, ?, ?, 'pending', ?)`,
    ),
    delivered: db.prepare(
      `UPDATE command_targets SET state = 'delivered', delivered_at = ? WHERE agent = ? AND command = ? AND state = 'pending'`,
    ),
    finished: db.prepare(
      `UPDATE command_targets SET state = ?, finished_at = ?, code = ?, message = ?, result = ?
       WHERE agent = ? AND command = ? AND state IN ('pending', 'delivered')`,
    ),
    action: db.prepare<[string], { action: string }>('SELECT action FROM commands WHERE id = ?'),
    event: db.prepare(
      'INSERT INTO command_events (seq, time, command, agent, action, type, state, actor) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
  };

  function issued(e: EntryOf<'CommandIssued'> & StoredEntry): void {
    const d = e.data;
    s.command.run(
      d.id, e.seq, d.action.name, JSON.stringify(d.action.args ?? {}), d.action.version,
      d.target.type, d.target.id ?? null, d.agents.length, d.issuedAt, d.expiresAt, e.actor,
    );
    for (const agent of d.agents) {
      s.target.run(agent, d.id, e.seq, d.expiresAt);
      s.event.run(e.seq, e.time, d.id, agent, d.action.name, e.type, 'pending', e.actor);
    }
    if (d.agents.length === 0) s.event.run(e.seq, e.time, d.id, null, d.action.name, e.type, 'pending', e.actor);
  }

  /** Only the imported targets: the command row is shared by every import of the same command. */
  function imported(e: EntryOf<'CommandImported'> & StoredEntry): void {
    const d = e.data;
    s.command.run(
      d.id, e.seq, d.action.name, JSON.stringify(d.action.args ?? {}), d.action.version,
      d.target.type, d.target.id ?? null, d.agents.length, d.issuedAt, d.expiresAt, d.issuedBy,
    );
    for (const agent of d.agents) {
      s.target.run(agent, d.id, e.seq, d.expiresAt);
      s.event.run(e.seq, e.time, d.id, agent, d.action.name, e.type, 'pending', e.actor);
    }
  }

  function observed(e: EntryOf<'CommandStateObserved'> & StoredEntry): void {
    const d = e.data;
    if (d.state === 'delivered') s.delivered.run(d.at, d.agent, d.id);
    else {
      const result = d.result === undefined ? null : JSON.stringify(d.result);
      s.finished.run(d.state, d.at, d.code ?? null, d.message ?? null, result, d.agent, d.id);
    }
    changed(e, d.state);
  }

  function changed(e: StoredEntry & { data: { id: string; agent: string } }, state: string): void {
    const action = s.action.get(e.data.id)?.action ?? '';
    s.event.run(e.seq, e.time, e.data.id, e.data.agent, action, e.type, state, e.actor);
  }

  function finished(e: EntryOf<'CommandSucceeded' | 'CommandFailed'> & StoredEntry, state: 'success' | 'failure'): void {
    const d = e.data;
    const result = d.result === undefined ? null : JSON.stringify(d.result);
    s.finished.run(state, e.time, d.code ?? null, d.message ?? null, result, d.agent, d.id);
    changed(e, state);
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
        case 'CommandSucceeded':
          return finished(e, 'success');
        case 'CommandFailed':
          return finished(e, 'failure');
        case 'CommandExpired':
          s.finished.run('expired', e.time, null, null, null, e.data.agent, e.data.id);
          return changed(e, 'expired');
        case 'CommandImported':
          return imported(e);
        case 'CommandStateObserved':
          return observed(e);
        default:
          return;
      }
    },
  };
}
