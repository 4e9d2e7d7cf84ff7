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
 * Pure decision for a commit window's deliveries: the new ones (see `decideMarkDelivered`, each
 * agent once per command) and one entry per command — `CommandDelivered` for one agent,
 * `CommandsDelivered {id, agents}` for several (a broadcast: one journal row, JSON and hash
 * instead of one per agent). Linear in the deliveries: a broadcast to a fleet is one window.
 */
export function decideDeliveries(
  stateOf: (d: Delivery) => TargetState | undefined,
  deliveries: readonly Delivery[],
): { entries: Entry[]; fresh: Delivery[] } {
  const byCommand = new Map<string, Set<string>>();
  const fresh: Delivery[] = [];
  for (const d of deliveries) {
    let agents = byCommand.get(d.id);
    if (agents?.has(d.agent) || decideMarkDelivered(stateOf(d), d).length === 0) continue;
    if (!agents) byCommand.set(d.id, (agents = new Set()));
    agents.add(d.agent);
    fresh.push(d);
  }
  const entries = [...byCommand].map(([id, set]): Entry => {
    const agents = [...set];
    return agents.length === 1
      ? { type: 'CommandDelivered', stream: id, actor: `agent:${agents[0]}`, data: { id, agent: agents[0]! } }
      : { type: 'CommandsDelivered', stream: id, actor: 'system', data: { id, agents } };
  });
  return { entries, fresh };
}

export const decideMarkDeliveredBatch = (stateOf: (d: Delivery) => TargetState | undefined, deliveries: readonly Delivery[]): Entry[] =>
  decideDeliveries(stateOf, deliveries).entries;

/**
 * Journals a batch of deliveries in one transaction (one entry per command, see above); resolves
 * with those that were new (still pending when the transaction ran): a long-poll answers only
 * these, so two polls racing for one command cannot both get it.
 */
export function markCommandDelivered(deps: { db: Db; commit: GroupCommit }) {
  return (deliveries: readonly Delivery[]): Promise<Delivery[]> =>
    deps.commit.run((tx) => {
      const { entries, fresh } = decideDeliveries((d) => targetState(deps.db, d.id, d.agent)?.state, deliveries);
      for (const e of entries) tx.append(e);
      return fresh;
    });
}
