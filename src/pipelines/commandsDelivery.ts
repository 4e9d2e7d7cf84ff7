import { asyncScheduler, buffer, catchError, concatMap, EMPTY, filter, from, fromEventPattern, merge, type Observable, tap, throttleTime } from 'rxjs';
import type { Delivery } from '../commands/markCommandDelivered.js';
import type { StoredEntry } from '../journal/entries.js';
import { agentCommandFromEntry, type AgentCommandDto } from '../projections/commandsReads.js';

/** What the pipeline asks of the agents' open streams (the SSE hub of src/transport/sse answers). */
export interface CommandsHub {
  /** Writes the command to every open stream of `agents`. */
  broadcast(command: AgentCommandDto, cursor: number, agents: readonly string[]): unknown;
  /** Closes the agent's streams. */
  disconnect(agent: string): void;
  /** The first delivery of each command on each stream. */
  readonly deliveries$: Observable<Delivery>;
}

export interface CommandsDeliveryDeps {
  /** `journal.onCommitted`: told about every durable commit, in seq order. */
  onCommitted(listener: (entries: StoredEntry[]) => void): () => void;
  hub: CommandsHub;
  /** Journals the first delivery of each (agent, command) in one transaction. */
  markDelivered(deliveries: readonly Delivery[]): Promise<unknown>;
  /** A deadline was issued: the expiry scheduler may need to fire sooner. */
  considerDeadline(at: number): void;
  onError(err: unknown): void;
  /** How long deliveries are gathered into one CommandDelivered transaction. */
  deliveryWindowMs?: number;
}

/**
 * Targets cancelled in the same commit as their command (cluster mode: a command the commands
 * index refused is journaled issued and cancelled at once): never broadcast. Null when none.
 */
function cancelledInCommit(entries: readonly StoredEntry[]): Set<string> | null {
  let set: Set<string> | null = null;
  for (const e of entries) if (e.type === 'CommandCancelled') (set ??= new Set()).add(`${e.data.id}:${e.data.agent}`);
  return set;
}

/**
 * Commands pipeline: committed CommandIssued (and, scaled out, CommandImported) entries → the SSE hub (one frame per command,
 * written to every target stream); deliveries reported by the hub → batched CommandDelivered
 * entries. AgentDeleted closes the agent's streams. Cold: nothing happens until main subscribes.
 */
export function createCommandsDeliveryPipeline(deps: CommandsDeliveryDeps): Observable<unknown> {
  const committed$ = fromEventPattern<StoredEntry[]>(
    (handler) => deps.onCommitted(handler as (entries: StoredEntry[]) => void),
    (_handler, unsubscribe: () => void) => unsubscribe(),
  );

  // One emission per commit, looped here: a commit of 10,000 CommandDelivered entries is not 10,000 emissions.
  const push$ = committed$.pipe(
    tap((entries) => {
      const cancelled = cancelledInCommit(entries);
      for (const e of entries) {
        if (e.type === 'CommandIssued' || e.type === 'CommandImported') {
          const agents = cancelled ? e.data.agents.filter((a) => !cancelled.has(`${e.data.id}:${a}`)) : e.data.agents;
          if (agents.length > 0) deps.hub.broadcast(agentCommandFromEntry(e.data), e.seq, agents);
          deps.considerDeadline(e.data.expiresAt);
        } else if (e.type === 'AgentDeleted') {
          deps.hub.disconnect(e.data.uuid);
        }
      }
    }),
  );

  // A window opens with the first delivery and closes `deliveryWindowMs` later: no timer runs while idle.
  const windowEnds$ = deps.hub.deliveries$.pipe(
    throttleTime(deps.deliveryWindowMs ?? 20, asyncScheduler, { leading: false, trailing: true }),
  );
  const delivered$ = deps.hub.deliveries$.pipe(
    buffer(windowEnds$),
    filter((batch) => batch.length > 0),
    concatMap((batch) =>
      from(deps.markDelivered(batch)).pipe(
        catchError((err) => {
          // Not journaling a delivery loses nothing: the command stays pending and is re-offered.
          deps.onError(err);
          return EMPTY;
        }),
      ),
    ),
  );

  return merge(push$, delivered$);
}
