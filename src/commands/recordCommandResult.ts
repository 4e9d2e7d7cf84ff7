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
 * Pure decision: a target reports once, before its command expires. A result proves delivery:
 * when the delivery was not journaled yet (the stream's batch had not been written), the
 * CommandDelivered entry comes first, so every trail reads pending → delivered → outcome.
 */
export function decideRecordCommandResult(
  known: boolean,
  target: { state: TargetState; expires_at: number } | undefined,
  cmd: { agent: AgentId; id: CommandId; result: CommandResult; now: number },
): Entry[] {
  if (!known) throw new UnknownCommandError(`no command ${cmd.id}`);
  if (!target) throw new NotATargetError(`command ${cmd.id} was not issued to agent ${cmd.agent}`);
  if (target.state !== 'pending' && target.state !== 'delivered') {
    throw new AlreadyReportedError(`command ${cmd.id} is already ${target.state} for agent ${cmd.agent}`);
  }
  if (target.expires_at <= cmd.now) throw new AlreadyReportedError(`command ${cmd.id} expired`);
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
  return [{ type: 'CommandDelivered', stream: cmd.id, actor, data: { id: cmd.id, agent: cmd.agent } }, outcome];
}

/**
 * The same, inside a transaction someone else runs (a stateful event with `module:"command"`
 * and `id` = the command id is recorded this way, in the batch's own transaction).
 */
export function applyCommandResult(db: Db, tx: Tx, agent: AgentId, id: CommandId, result: CommandResult): StoredEntry[] {
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
