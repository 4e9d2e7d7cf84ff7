import type { Db } from '../journal/database.js';
import type { Entry } from '../journal/entries.js';
import type { GroupCommit } from '../journal/groupCommit.js';
import type { AgentId } from '../journal/ids.js';
import { findAgent } from '../projections/agentsReads.js';
import { StatusError } from '../errors.js';

export class UnknownAgentError extends StatusError {
  readonly status = 404;
}

/** Pure decision: only a registered agent can be deleted; deleting revokes its tokens. */
export function decideDeleteAgent(exists: boolean, uuid: AgentId, actor: string): Entry[] {
  if (!exists) throw new UnknownAgentError(`agent ${uuid} is not registered`);
  return [{ type: 'AgentDeleted', stream: uuid, actor, data: { uuid } }];
}

export function deleteAgent(deps: { db: Db; commit: GroupCommit }) {
  return (uuid: AgentId, actor: string): Promise<void> =>
    deps.commit.run((tx) => {
      decideDeleteAgent(Boolean(findAgent(deps.db, uuid)), uuid, actor).forEach(tx.append);
    });
}
