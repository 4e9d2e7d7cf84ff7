import type { Db } from '../journal/database.js';
import type { Entry } from '../journal/entries.js';
import type { GroupCommit } from '../journal/groupCommit.js';
import { targetState, type TargetState } from '../projections/commandsReads.js';

export interface Delivery {
  agent: string;
  id: string;
}

/**
 * Pure decision: the first delivery of a command to an agent is journaled; a redelivery
 * (reconnect) or a delivery that raced with a result or expiry journals nothing.
 */
export function decideMarkDelivered(state: TargetState | undefined, d: Delivery): Entry[] {
  if (state !== 'pending') return [];
  return [{ type: 'CommandDelivered', stream: d.id, actor: `agent:${d.agent}`, data: { id: d.id, agent: d.agent } }];
}

/** Journals CommandDelivered for a batch of deliveries, in one transaction; resolves with how many were new. */
export function markCommandDelivered(deps: { db: Db; commit: GroupCommit }) {
  return (deliveries: readonly Delivery[]): Promise<number> =>
    deps.commit.run((tx) => {
      let n = 0;
      for (const d of deliveries) {
        for (const e of decideMarkDelivered(targetState(deps.db, d.id, d.agent)?.state, d)) {
          tx.append(e);
          n += 1;
        }
      }
      return n;
    });
}
