import type { Db } from '../journal/database.js';
import type { Entry } from '../journal/entries.js';
import type { GroupCommit } from '../journal/groupCommit.js';
import { targetState, type TargetState } from '../queries/commands.js';

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

/**
 * Journals CommandDelivered for a batch of deliveries, in one transaction; resolves with those
 * that were new (still pending when the transaction ran): a long-poll answers only these, so two
 * polls racing for one command cannot both get it.
 */
export function markCommandDelivered(deps: { db: Db; commit: GroupCommit }) {
  return (deliveries: readonly Delivery[]): Promise<Delivery[]> =>
    deps.commit.run((tx) => {
      const fresh: Delivery[] = [];
      for (const d of deliveries) {
        const entries = decideMarkDelivered(targetState(deps.db, d.id, d.agent)?.state, d);
        for (const e of entries) tx.append(e);
        if (entries.length > 0) fresh.push(d);
      }
      return fresh;
    });
}
