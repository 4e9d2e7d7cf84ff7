import type { EntryOf, StoredEntry } from '../journal/entries.js';
import type { JournalRow } from '../journal/readEntries.js';
import { rowToEntry } from '../journal/readEntries.js';
import { INDEXER_ACTOR } from '../indexer/indexedDocs.js';
import { AGENTS_INDEX, COMMANDS_INDEX, statesIndex } from '../indexer/templates.js';

/** Where a stateful item's result goes in the stateful read model. */
export interface StatefulRef {
  batch: string;
  position: number;
  id: string;
}

export interface ItemOutcome {
  status: number;
  result: string;
  error?: string;
}

/** One `_bulk` action: its NDJSON lines, and what it is about. `_id` is derived from the journal. */
export interface IndexAction {
  seq: number;
  index: string;
  id: string;
  /** `create`: the document may already be there (written by scale-out before journaling): 409 is done. */
  op: 'index' | 'create' | 'update' | 'delete';
  lines: string[];
  bytes: number;
  stateful?: StatefulRef;
  /** Filled in by the sink as answers come back. */
  outcome?: ItemOutcome;
}

/** The entry types the indexer mirrors. */
export const INDEXED_TYPES = [
  'StatefulEventsReceived',
  'AgentRegistered',
  'AgentKeyRehashed',
  'AgentGroupsChanged',
  'AgentDeleted',
  'CommandIssued',
  'CommandDelivered',
  'CommandsDelivered',
  'CommandSucceeded',
  'CommandFailed',
  'CommandExpired',
  'CommandCancelled',
] as const;

const iso = (ms: number): string => new Date(ms).toISOString();
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const asObject = (v: unknown): Record<string, unknown> => (isObject(v) ? v : { value: v });

function action(seq: number, op: IndexAction['op'], index: string, id: string, source?: unknown, stateful?: StatefulRef): IndexAction {
  const meta = op === 'update' ? { update: { _index: index, _id: id, retry_on_conflict: 3 } } : { [op]: { _index: index, _id: id } };
  const lines = [JSON.stringify(meta)];
  if (op === 'update') lines.push(JSON.stringify({ doc: source, doc_as_upsert: true }));
  else if (op === 'index' || op === 'create') lines.push(JSON.stringify(source));
  const bytes = lines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
  return { seq, index, id, op, lines, bytes, ...(stateful ? { stateful } : {}) };
}

/**
 * A state document carries the agent it came from as `agent.id` (from its token, whatever the
 * document said), as the platform's state indices do: dashboards select an agent's inventory so.
 */
function withAgent(doc: Record<string, unknown>, agent: string): Record<string, unknown> {
  return { ...doc, agent: { ...(isObject(doc.agent) ? doc.agent : {}), id: agent } };
}

export const commandDocId = (command: string, agent: string): string => `${command}:${agent}`;

function commandState(e: StoredEntry, state: string, extra: Record<string, unknown> = {}): IndexAction {
  const d = e.data as { id: string; agent: string };
  return action(e.seq, 'update', COMMANDS_INDEX, commandDocId(d.id, d.agent), {
    command_id: d.id,
    agent: d.agent,
    state,
    updated_at: iso(e.time),
    actor: e.actor,
    seq: e.seq,
    ...extra,
  });
}

/**
 * The commands index documents of an issued command, one per target (`<command>:<agent>`, state
 * `pending`). Written by the indexer pipeline, and in cluster mode first by scale-out before the
 * command is journaled (`seq` unknown then): the pipeline's later `create` finds them and is done.
 */
export function commandIssuedDocs(
  d: EntryOf<'CommandIssued'>['data'],
  actor: string,
  time: number,
  seq?: number,
): Array<{ id: string; doc: Record<string, unknown> }> {
  return d.agents.map((agent) => ({
    id: commandDocId(d.id, agent),
    doc: {
      command_id: d.id,
      agent,
      state: 'pending',
      action: { name: d.action.name, version: d.action.version, args: asObject(d.action.args) },
      target: d.target,
      issued_at: iso(d.issuedAt),
      expires_at: iso(d.expiresAt),
      updated_at: iso(time),
      actor,
      issued_by: actor,
      ...(seq !== undefined ? { seq } : {}),
    },
  }));
}

function outcomeFields(d: { code?: number | undefined; message?: string | undefined; result?: unknown }): Record<string, unknown> {
  return {
    ...(d.code !== undefined ? { code: d.code } : {}),
    ...(d.message !== undefined ? { message: d.message } : {}),
    ...(d.result !== undefined ? { result: asObject(d.result) } : {}),
  };
}

/** The entry types the indexer is not told about (the switch below fails to compile when a new one is not decided on). */
type PassedOver = 'AgentFactsReported' | 'UserCreated' | 'UserDisabled' | 'UserEnabled' | 'UserDeleted' | 'ApiKeyCreated' | 'ApiKeyRevoked' | 'StatelessEventsReceived' | 'CatalogEntryPut' | 'CommandImported' | 'CommandStateObserved' | 'GroupConfigurationPut' | 'PackageUploaded' | 'PackageDeleted' | 'DeadLetterRetried' | 'DeadLetterDiscarded' | 'JournalPruned';

/**
 * What the journal says, as bulk actions, in journal order. Entries by the actor `indexer` were
 * read from the index (scale-out imports) and are never written back.
 */
export function indexActions(e: StoredEntry): IndexAction[] {
  if (e.actor === INDEXER_ACTOR) return [];
  switch (e.type) {
    case 'StatefulEventsReceived':
      return e.data.items.map((item, position) => {
        const ref = { batch: e.data.batch, position, id: item.id };
        const index = statesIndex(item.module, item.collector);
        if (item.operation === 'delete') return action(e.seq, 'delete', index, item.id, undefined, ref);
        return action(e.seq, item.operation === 'create' ? 'index' : 'update', index, item.id, withAgent(item.doc ?? {}, e.data.agent), ref);
      });
    case 'AgentRegistered':
      return [
        action(e.seq, 'index', AGENTS_INDEX, e.data.uuid, {
          uuid: e.data.uuid,
          name: e.data.name,
          groups: e.data.groups,
          key_hash: e.data.keyHash,
          registered_at: iso(e.time),
          updated_at: iso(e.time),
          seq: e.seq,
        }),
      ];
    case 'AgentKeyRehashed':
      // not `updated_at`: that dates group changes, which other nodes compare with their own
      return [action(e.seq, 'update', AGENTS_INDEX, e.data.uuid, { uuid: e.data.uuid, key_hash: e.data.keyHash, seq: e.seq })];
    case 'AgentGroupsChanged':
      return [action(e.seq, 'update', AGENTS_INDEX, e.data.uuid, { uuid: e.data.uuid, groups: e.data.groups, updated_at: iso(e.time), seq: e.seq })];
    case 'AgentDeleted':
      // a tombstone, not a delete: other nodes follow the index and must see the deletion
      return [action(e.seq, 'index', AGENTS_INDEX, e.data.uuid, { uuid: e.data.uuid, deleted: true, deleted_at: iso(e.time), updated_at: iso(e.time), seq: e.seq })];
    case 'CommandIssued':
      return commandIssuedDocs(e.data, e.actor, e.time, e.seq).map(({ id, doc }) => action(e.seq, 'create', COMMANDS_INDEX, id, doc));
    case 'CommandDelivered':
      return [commandState(e, 'delivered')];
    case 'CommandsDelivered':
      return e.data.agents.map((agent) => commandState({ ...e, type: 'CommandDelivered', actor: `agent:${agent}`, data: { id: e.data.id, agent } }, 'delivered'));
    case 'CommandSucceeded':
      return [commandState(e, 'success', outcomeFields(e.data))];
    case 'CommandFailed':
      return [commandState(e, 'failure', outcomeFields(e.data))];
    case 'CommandExpired':
      return [commandState(e, 'expired')];
    case 'CommandCancelled':
      return [commandState(e, 'cancelled', e.data.reason !== undefined ? { message: e.data.reason } : {})];
    default: {
      // passed over on purpose: a new entry type is handled above or named in PassedOver
      const passedOver: PassedOver = e.type;
      void passedOver;
      return [];
    }
  }
}

export function rowActions(row: JournalRow): IndexAction[] {
  return indexActions(rowToEntry(row));
}
