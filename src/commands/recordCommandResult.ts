import { z } from 'zod';
import type { Db } from '../journal/database.js';
import type { Entry, StoredEntry } from '../journal/entries.js';
import { ConflictError } from '../journal/errors.js';
import type { GroupCommit, Tx } from '../journal/groupCommit.js';
import type { AgentId, CommandId } from '../journal/ids.js';
import { findCommand, targetState, type TargetState } from '../projections/commandsReads.js';
import { StatusError } from '../errors.js';

export class UnknownCommandError extends StatusError {
  readonly status = 404;
}
/** Only an agent the command was issued to may report on it. */
export class NotATargetError extends StatusError {
  readonly status = 403;
}
export class AlreadyReportedError extends ConflictError {}

/** The body of `POST /commands/{id}/result`, and the data line of a stateful `module:"command"` event. */
export const CommandResult = z.object({
  status: z.enum(['success', 'failure']),
  code: z.number().int().optional(),
  message: z.string().max(8192).optional(),
  data: z.unknown().optional(),
});
export type CommandResult = z.infer<typeof CommandResult>;

/**
 * The existing Wazuh agent's result (data line of its `module:"command"` stateful item): its
 * status code is 0 success, 1 failure, 2 in progress, 3 timeout, 4 unknown.
 */
export const AgentCommandResult = z.object({
  command: z.object({
    result: z.object({ code: z.number().int().min(0).max(4), message: z.string().max(8192).optional() }),
  }),
});
export type AgentCommandResult = z.infer<typeof AgentCommandResult>;

/** Either shape, as a stateful item's data line may carry it. */
export const StatefulCommandResult = z.union([CommandResult, AgentCommandResult]);
export type StatefulCommandResult = z.infer<typeof StatefulCommandResult>;

/** "In progress": no outcome yet, the target stays (or becomes) delivered. */
export const IN_PROGRESS = 'in-progress' as const;
export type Outcome = CommandResult | typeof IN_PROGRESS;

/** Pure: the agent's code as an outcome. 3 (timeout) is a failure noted as `{timeout: true}`. */
export function outcomeOf(r: StatefulCommandResult): Outcome {
  if ('status' in r) return r;
  const { code, message } = r.command.result;
  if (code === 2) return IN_PROGRESS;
  const text = message !== undefined ? { message } : {};
  if (code === 0) return { status: 'success', code, ...text };
  if (code === 3) return { status: 'failure', code, ...text, data: { timeout: true } };
  return { status: 'failure', code, ...text };
}

/**
 * Pure decision: a target reports once, before its command expires. A result proves delivery:
 * when the delivery was not journaled yet (the stream's batch had not been written), the
 * CommandDelivered entry comes first, so every trail reads pending → delivered → outcome.
 */
export function decideRecordCommandResult(
  known: boolean,
  target: { state: TargetState; expires_at: number } | undefined,
  cmd: { agent: AgentId; id: CommandId; result: Outcome; now: number },
): Entry[] {
  if (!known) throw new UnknownCommandError(`no command ${cmd.id}`);
  if (!target) throw new NotATargetError(`command ${cmd.id} was not issued to agent ${cmd.agent}`);
  if (target.state !== 'pending' && target.state !== 'delivered') {
    throw new AlreadyReportedError(`command ${cmd.id} is already ${target.state} for agent ${cmd.agent}`);
  }
  if (target.expires_at <= cmd.now) throw new AlreadyReportedError(`command ${cmd.id} expired`);
  const delivered: Entry = { type: 'CommandDelivered', stream: cmd.id, actor: `agent:${cmd.agent}`, data: { id: cmd.id, agent: cmd.agent } };
  if (cmd.result === IN_PROGRESS) return target.state === 'pending' ? [delivered] : [];
  const { status, code, message, data } = cmd.result;
  const detail = {
    id: cmd.id,
    agent: cmd.agent,
    ...(code !== undefined ? { code } : {}),
    ...(message !== undefined ? { message } : {}),
    ...(data !== undefined ? { result: data } : {}),
  };
  const actor = `agent:${cmd.agent}`;
  const outcome: Entry =
    status === 'success'
      ? { type: 'CommandSucceeded', stream: cmd.id, actor, data: detail }
      : { type: 'CommandFailed', stream: cmd.id, actor, data: detail };
  if (target.state === 'delivered') return [outcome];
  return [delivered, outcome];
}

/**
 * The same, inside a transaction someone else runs (a stateful event with `module:"command"`
 * and `id` = the command id is recorded this way, in the batch's own transaction).
 */
export function applyCommandResult(db: Db, tx: Tx, agent: AgentId, id: CommandId, result: Outcome): StoredEntry[] {
  const entries = decideRecordCommandResult(Boolean(findCommand(db, id)), targetState(db, id, agent), {
    agent,
    id,
    result,
    now: tx.now,
  });
  return entries.map((e) => tx.append(e));
}

/** `recordCommandResult(deps)(agent, commandId, result)`: resolves once the result is journaled. */
export function recordCommandResult(deps: { db: Db; commit: GroupCommit }) {
  return (agent: AgentId, id: CommandId, result: CommandResult): Promise<void> =>
    deps.commit.run((tx) => {
      applyCommandResult(deps.db, tx, agent, id, result);
    });
}
