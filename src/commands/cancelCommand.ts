import type { Db } from '../journal/database.js';
import type { Entry } from '../journal/entries.js';
import type { GroupCommit } from '../journal/groupCommit.js';
import type { CommandId } from '../journal/ids.js';
import { findCommand, openTargets } from '../queries/commands.js';
import { UnknownCommandError } from './recordCommandResult.js';

/**
 * Pure decision: every target that has not finished the command (pending or delivered) becomes
 * cancelled, one CommandCancelled per agent with the actor. Finished targets keep their state;
 * cancelling a command with no open target journals nothing.
 */
export function decideCancelCommand(exists: boolean, id: CommandId, open: readonly string[], actor: string): Entry[] {
  if (!exists) throw new UnknownCommandError(`no command ${id}`);
  return open.map((agent) => ({ type: 'CommandCancelled', stream: id, actor, data: { id, agent } }));
}

/** Cancels the command's open targets in one transaction; resolves with how many were cancelled. */
export function cancelCommand(deps: { db: Db; commit: GroupCommit }) {
  return (id: CommandId, actor: string): Promise<number> =>
    deps.commit.run((tx) => {
      const entries = decideCancelCommand(Boolean(findCommand(deps.db, id)), id, openTargets(deps.db, id), actor);
      entries.forEach(tx.append);
      return entries.length;
    });
}
