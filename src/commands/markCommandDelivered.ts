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

/**
 * Pure decision for a commit window's deliveries: the new ones (see `decideMarkDelivered`), one
 * entry per command — `CommandDelivered` for one agent, `CommandsDelivered {id, agents}` for
 * several (a broadcast: one journal row, JSON and hash instead of one per agent).
 */
export function decideMarkDeliveredBatch(stateOf: (d: Delivery) => TargetState | undefined, deliveries: readonly Delivery[]): Entry[] {
  const byCommand = new Map<string, string[]>();
  for (const d of deliveries) {
    if (decideMarkDelivered(stateOf(d), d).length === 0) continue;
    let agents = byCommand.get(d.id);
    if (!agents) byCommand.set(d.id, (agents = []));
    if (!agents.includes(d.agent)) agents.push(d.agent);
  }
  return [...byCommand].map(([id, agents]): Entry =>
    agents.length === 1
      ? { type: 'CommandDelivered', stream: id, actor: `agent:${agents[0]}`, data: { id, agent: agents[0]! } }
      : { type: 'CommandsDelivered', stream: id, actor: 'system', data: { id, agents } },
  );
}

/**
 * Journals a batch of deliveries in one transaction (one entry per command, see above); resolves
 * with those that were new (still pending when the transaction ran): a long-poll answers only
 * these, so two polls racing for one command cannot both get it.
 */
export function markCommandDelivered(deps: { db: Db; commit: GroupCommit }) {
  return (deliveries: readonly Delivery[]): Promise<Delivery[]> =>
    deps.commit.run((tx) => {
      const fresh: Delivery[] = [];
      const stateOf = (d: Delivery) => targetState(deps.db, d.id, d.agent)?.state;
      const isNew = deliveries.map((d) => decideMarkDelivered(stateOf(d), d).length > 0);
      for (const e of decideMarkDeliveredBatch(stateOf, deliveries)) tx.append(e);
      deliveries.forEach((d, i) => {
        if (isNew[i] && !fresh.some((f) => f.id === d.id && f.agent === d.agent)) fresh.push(d);
      });
      return fresh;
    });
}
