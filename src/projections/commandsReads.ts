import { preparedOnce, type Db } from '../journal/database.js';
import type { EntryOf } from '../journal/entries.js';

export type TargetState = 'pending' | 'delivered' | 'success' | 'failure' | 'expired' | 'cancelled';

/** The command object sent to agents (SSE `data:` and long-poll items). */
export interface AgentCommandDto {
  id: string;
  /** The same id, where the existing Wazuh agent reads it. */
  document_id: string;
  action: { name: string; args: unknown; version: string };
  target: { type: 'agent' | 'group' | 'all'; id?: string };
  issued_at: string;
  expires_at: string;
}

/** A command waiting for one agent, with its resume cursor (the CommandIssued seq). */
export interface PendingCommand {
  cursor: number;
  state: 'pending' | 'delivered';
  command: AgentCommandDto;
}

export interface CommandRow {
  id: string;
  seq: number;
  action: string;
  args: string;
  version: string;
  target_type: 'agent' | 'group' | 'all';
  target_id: string | null;
  targets: number;
  issued_at: number;
  expires_at: number;
  issued_by: string;
}

interface TargetRow {
  agent: string;
  state: TargetState;
  delivered_at: number | null;
  finished_at: number | null;
  code: number | null;
  message: string | null;
  result: string | null;
}

function prepare(db: Db) {
  return {
    // narrow commands through the per-agent index of open targets; wide ones (a few live broadcasts) one probe each
    pending: db.prepare<{ agent: string; now: number }, CommandRow & { state: 'pending' | 'delivered'; target_seq: number }>(
      `SELECT c.*, t.state, t.seq AS target_seq FROM command_targets t JOIN commands c ON c.id = t.command
       WHERE t.agent = @agent AND t.state IN ('pending', 'delivered') AND wide = 0 AND t.expires_at > @now
       UNION ALL
       SELECT c.*, t.state, t.seq AS target_seq FROM wide_commands w
         JOIN command_targets t ON t.command = w.command AND t.agent = @agent
         JOIN commands c ON c.id = t.command
       WHERE w.expires_at > @now AND t.wide = 1 AND t.state IN ('pending', 'delivered') AND t.expires_at > @now
       ORDER BY target_seq`,
    ),
    find: db.prepare<[string], CommandRow>('SELECT * FROM commands WHERE id = ?'),
    target: db.prepare<[string, string], { state: TargetState; expires_at: number }>(
      'SELECT state, expires_at FROM command_targets WHERE command = ? AND agent = ?',
    ),
    targets: db.prepare<[string], TargetRow>(
      `SELECT agent, state, delivered_at, finished_at, code, message, result FROM command_targets WHERE command = ? ORDER BY agent`,
    ),
    openTargets: db.prepare<[string], string>(
      `SELECT agent FROM command_targets WHERE command = ? AND state IN ('pending', 'delivered') ORDER BY agent`,
    ).pluck(),
    nextDeadline: db.prepare<[], { at: number | null }>(
      `SELECT min(expires_at) AS at FROM command_targets WHERE state IN ('pending', 'delivered')`,
    ),
    due: db.prepare<[number, number], { command: string; agent: string }>(
      `SELECT command, agent FROM command_targets WHERE state IN ('pending', 'delivered') AND expires_at <= ?
       ORDER BY expires_at LIMIT ?`,
    ),
    // plucked: a broadcast reads every agent, and one string per row is half the work of one object per row
    groupMembers: db.prepare<[string], string>('SELECT agent FROM agent_groups WHERE grp = ? ORDER BY agent').pluck(),
    allAgents: db.prepare<[], string>('SELECT uuid FROM agents ORDER BY uuid').pluck(),
    agentExists: db.prepare<[string], { uuid: string }>('SELECT uuid FROM agents WHERE uuid = ?'),
  };
}
const stmts = preparedOnce(prepare);

const iso = (ms: number): string => new Date(ms).toISOString();

function toAgentDto(r: CommandRow): AgentCommandDto {
  return {
    id: r.id,
    document_id: r.id,
    action: { name: r.action, args: JSON.parse(r.args), version: r.version },
    target: r.target_id === null ? { type: r.target_type } : { type: r.target_type, id: r.target_id },
    issued_at: iso(r.issued_at),
    expires_at: iso(r.expires_at),
  };
}

/** The same object, built from the journal entry (no read needed when broadcasting). */
export function agentCommandFromEntry(d: EntryOf<'CommandIssued'>['data']): AgentCommandDto {
  return {
    id: d.id,
    document_id: d.id,
    action: { name: d.action.name, args: d.action.args ?? {}, version: d.action.version },
    target: d.target.id === undefined ? { type: d.target.type } : { type: d.target.type, id: d.target.id },
    issued_at: iso(d.issuedAt),
    expires_at: iso(d.expiresAt),
  };
}

/** Every command the agent has not reported on and that has not expired, oldest first. */
export function pendingCommands(db: Db, agent: string, now: number): PendingCommand[] {
  return stmts(db)
    .pending.all({ agent, now })
    .map((r) => ({ cursor: r.seq, state: r.state, command: toAgentDto(r) }));
}

export function findCommand(db: Db, id: string): CommandRow | undefined {
  return stmts(db).find.get(id);
}

export function targetState(db: Db, id: string, agent: string): { state: TargetState; expires_at: number } | undefined {
  return stmts(db).target.get(id, agent);
}

/** `GET /commands/{id}`: the command and every target's state with its times. */
export function commandDetails(db: Db, id: string) {
  const c = findCommand(db, id);
  if (!c) return undefined;
  const targets = stmts(db)
    .targets.all(id)
    .map((t) => ({
      agent: t.agent,
      state: t.state,
      ...(t.delivered_at !== null ? { delivered_at: iso(t.delivered_at) } : {}),
      ...(t.finished_at !== null ? { finished_at: iso(t.finished_at) } : {}),
      ...(t.code !== null ? { code: t.code } : {}),
      ...(t.message !== null ? { message: t.message } : {}),
      ...(t.result !== null ? { data: JSON.parse(t.result) as unknown } : {}),
    }));
  const counts: Record<TargetState, number> = { pending: 0, delivered: 0, success: 0, failure: 0, expired: 0, cancelled: 0 };
  for (const t of targets) counts[t.state] += 1;
  return { ...toAgentDto(c), issued_by: c.issued_by, seq: c.seq, counts, targets };
}

/** The agents of a command that have not finished it (pending or delivered), in uuid order. */
export function openTargets(db: Db, id: string): string[] {
  return stmts(db).openTargets.all(id);
}

/** The earliest deadline of an open target, in ms, or undefined. */
export function nextDeadline(db: Db): number | undefined {
  return stmts(db).nextDeadline.get()?.at ?? undefined;
}

/** Open targets whose deadline has passed, at most `limit`. */
export function dueTargets(db: Db, now: number, limit: number): Array<{ command: string; agent: string }> {
  return stmts(db).due.all(now, limit);
}

export function groupMembers(db: Db, group: string): string[] {
  return stmts(db).groupMembers.all(group);
}

export function allAgents(db: Db): string[] {
  return stmts(db).allAgents.all();
}

export function agentExists(db: Db, uuid: string): boolean {
  return Boolean(stmts(db).agentExists.get(uuid));
}
