import type { Db } from '../journal/database.js';
import type { Entry, EntryOf } from '../journal/entries.js';
import type { GroupCommit } from '../journal/groupCommit.js';
import { targetState, type TargetState } from '../queries/commands.js';
import { INDEXER_ACTOR, type CommandDoc } from '../transport/indexer/indexedDocs.js';

const OPEN: readonly TargetState[] = ['pending', 'delivered'];
const TERMINAL: readonly TargetState[] = ['success', 'failure', 'expired', 'cancelled'];

/**
 * Pure: the CommandImported entry for one target of a command issued on another node, or
 * undefined while the document does not hold the command yet (only a state update reached it).
 * The target starts `pending` here: this node journals its own delivery when it makes one.
 */
export function importedCommand(doc: CommandDoc): EntryOf<'CommandImported'> | undefined {
  const { action, target, issued_at: issuedAt, expires_at: expiresAt } = doc;
  if (!action || !target || issuedAt === undefined || expiresAt === undefined) return undefined;
  return {
    type: 'CommandImported',
    stream: doc.command_id,
    actor: INDEXER_ACTOR,
    data: {
      id: doc.command_id,
      action: { name: action.name, args: action.args ?? {}, version: action.version },
      target: target.id === undefined ? { type: target.type } : { type: target.type, id: target.id },
      agents: [doc.agent],
      issuedAt,
      expiresAt,
      issuedBy: doc.issued_by ?? (doc.state === 'pending' ? doc.actor : INDEXER_ACTOR),
    },
  };
}

/** Pure: a state change made on another node, as this node's journal records it. */
export function observedState(doc: CommandDoc & { state: Exclude<TargetState, 'pending'> }): EntryOf<'CommandStateObserved'> {
  return {
    type: 'CommandStateObserved',
    stream: doc.command_id,
    actor: INDEXER_ACTOR,
    data: {
      id: doc.command_id,
      agent: doc.agent,
      state: doc.state,
      by: doc.actor,
      at: doc.updated_at,
      ...(doc.code !== undefined ? { code: doc.code } : {}),
      ...(doc.message !== undefined ? { message: doc.message } : {}),
      ...(doc.result !== undefined ? { result: doc.result } : {}),
    },
  };
}

/**
 * Pure decision for one followed document of the commands index:
 * - a target unknown here is imported only when its agent is connected to this node and the
 *   command is still open and before its deadline (other agents' commands are not this node's business);
 * - a target open here whose document is finished (success, failure, expired) was finished on
 *   another node: CommandStateObserved. A remote `delivered` is observed only for agents that are
 *   not connected here (this node journals its own deliveries);
 * - anything else (this node's own changes, older states) journals nothing.
 */
export function decideFollowCommandDoc(
  doc: CommandDoc,
  local: { state: TargetState } | undefined,
  here: { connected: boolean; now: number },
): Entry[] {
  if (!local) {
    if (!here.connected || !OPEN.includes(doc.state)) return [];
    if (doc.expires_at === undefined || doc.expires_at <= here.now) return [];
    const imported = importedCommand(doc);
    return imported ? [imported] : [];
  }
  if (!OPEN.includes(local.state)) return [];
  if (TERMINAL.includes(doc.state)) return [observedState(doc as CommandDoc & { state: 'success' | 'failure' | 'expired' | 'cancelled' })];
  if (doc.state === 'delivered' && local.state === 'pending' && !here.connected) {
    return [observedState(doc as CommandDoc & { state: 'delivered' })];
  }
  return [];
}

/** Journals what a batch of followed documents means here, in one transaction; resolves with the entries written. */
export function followCommandsIndex(deps: { db: Db; commit: GroupCommit }) {
  return (docs: readonly CommandDoc[], connected: (agent: string) => boolean): Promise<number> =>
    deps.commit.run((tx) => {
      let n = 0;
      for (const doc of docs) {
        const local = targetState(deps.db, doc.command_id, doc.agent);
        for (const e of decideFollowCommandDoc(doc, local, { connected: connected(doc.agent), now: tx.now })) {
          tx.append(e);
          n += 1;
        }
      }
      return n;
    });
}
