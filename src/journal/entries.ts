import { z } from 'zod';
import { JsonObject } from './jsonObject.js';

/**
 * Every journal entry type. The `type` string equals the type name; entries are past tense.
 * `stream` is what the entry is about (agent uuid, command id, group, user, ...), `actor`
 * who caused it ("agent:<uuid>", "user:<name>", "admin-socket", "cli", "system").
 */
const entry = <T extends string, D extends z.ZodType>(type: T, data: D) =>
  z.object({ type: z.literal(type), stream: z.string(), actor: z.string(), data });

/** An agent's host facts (type, version, host), as its enrollment or its agent line reported them. */
const Facts = {
  type: z.string().optional(),
  version: z.string().optional(),
  host: z.record(z.string(), z.unknown()).optional(),
};
export const AgentRegistered = entry(
  'AgentRegistered',
  z.object({ uuid: z.string(), name: z.string(), groups: z.array(z.string()), keyHash: z.string(), ...Facts }),
);
/**
 * An agent's stored key hash replaced by the current form (a legacy `scrypt$…` hash re-hashed as
 * `hmac-sha256$…` after a successful login with that key); actor `agent:<uuid>`.
 */
export const AgentKeyRehashed = entry('AgentKeyRehashed', z.object({ uuid: z.string(), keyHash: z.string() }));
/** The agent line of an events batch reported other host facts than the stored ones. */
export const AgentFactsReported = entry('AgentFactsReported', z.object({ uuid: z.string(), ...Facts }));
export const AgentDeleted = entry('AgentDeleted', z.object({ uuid: z.string() }));
export const AgentGroupsChanged = entry(
  'AgentGroupsChanged',
  z.object({ uuid: z.string(), groups: z.array(z.string()) }),
);
export const UserCreated = entry(
  'UserCreated',
  z.object({ name: z.string(), role: z.enum(['operator', 'auditor']), passwordHash: z.string() }),
);
/** A user's tokens are refused from now on, and it cannot log in until enabled again. */
export const UserDisabled = entry('UserDisabled', z.object({ name: z.string() }));
export const UserEnabled = entry('UserEnabled', z.object({ name: z.string() }));
/** The user is removed; its tokens are refused (also if a user of that name is created again). */
export const UserDeleted = entry('UserDeleted', z.object({ name: z.string() }));
/** An API key for automation: only the SHA-256 of the key is kept (the key is shown once). */
export const ApiKeyCreated = entry(
  'ApiKeyCreated',
  z.object({
    id: z.string(),
    name: z.string(),
    role: z.enum(['operator', 'auditor', 'metrics']),
    keyHash: z.string(),
    /** Learnt from the API keys index (cluster mode): who created the key on which node, and when (ms). */
    createdBy: z.string().optional(),
    createdAt: z.number().int().optional(),
  }),
);
export const ApiKeyRevoked = entry('ApiKeyRevoked', z.object({ id: z.string() }));
/** One row per batch: `body` holds the agent's NDJSON bytes exactly as sent. */
export const StatelessEventsReceived = entry(
  'StatelessEventsReceived',
  // bodySha256 (hex) is kept with an Idempotency-Key: a retry must send the same bytes
  z.object({ agent: z.string(), events: z.number().int(), idempotencyKey: z.string().optional(), bodySha256: z.string().optional() }),
);
export const StatefulEventsReceived = entry(
  'StatefulEventsReceived',
  z.object({
    agent: z.string(),
    batch: z.string(),
    items: z.array(
      z.object({
        id: z.string(),
        module: z.string(),
        collector: z.string().optional(),
        operation: z.enum(['create', 'update', 'delete']),
        doc: JsonObject.optional(),
      }),
    ),
  }),
);
export const CatalogEntryPut = entry(
  'CatalogEntryPut',
  z.object({
    name: z.string(),
    description: z.string(),
    args: JsonObject,
    defaultTimeout: z.number().int(),
    targetTypes: z.array(z.enum(['agent', 'group', 'all'])),
  }),
);
const CommandTarget = z.object({ type: z.enum(['agent', 'group', 'all']), id: z.string().optional() });
export const CommandIssued = entry(
  'CommandIssued',
  z.object({
    id: z.string(),
    action: z.object({ name: z.string(), args: z.unknown(), version: z.string() }),
    target: CommandTarget,
    agents: z.array(z.string()),
    issuedAt: z.number(),
    expiresAt: z.number(),
  }),
);
const perAgent = z.object({ id: z.string(), agent: z.string() });
export const CommandDelivered = entry('CommandDelivered', perAgent);
/**
 * The first deliveries of one command to several agents within one commit window (a broadcast's
 * streams), as one entry; actor `system`. Read models and the history show one delivery per agent
 * (actor `agent:<uuid>`, type `CommandDelivered`), exactly as for single `CommandDelivered` entries.
 */
export const CommandsDelivered = entry('CommandsDelivered', z.object({ id: z.string(), agents: z.array(z.string()).min(2) }));
export const CommandSucceeded = entry(
  'CommandSucceeded',
  perAgent.extend({ code: z.number().optional(), message: z.string().optional(), result: z.unknown().optional() }),
);
export const CommandFailed = entry(
  'CommandFailed',
  perAgent.extend({ code: z.number().optional(), message: z.string().optional(), result: z.unknown().optional() }),
);
export const CommandExpired = entry('CommandExpired', perAgent);
/**
 * An operator cancelled the command: this target, not finished yet, will not be offered again.
 * `reason` when the system did (cluster mode: the commands index did not take the command in time).
 */
export const CommandCancelled = entry('CommandCancelled', perAgent.extend({ reason: z.string().max(1000).optional() }));
/**
 * Scale-out (actor `indexer`): a command issued on another node, read from the commands index
 * because one of its targets is served by this node; only those targets are imported.
 */
export const CommandImported = entry(
  'CommandImported',
  CommandIssued.shape.data.extend({ issuedBy: z.string() }),
);
/** Scale-out (actor `indexer`): a target's state changed on another node, as the commands index shows it. */
export const CommandStateObserved = entry(
  'CommandStateObserved',
  perAgent.extend({
    state: z.enum(['delivered', 'success', 'failure', 'expired', 'cancelled']),
    by: z.string(),
    at: z.number(),
    code: z.number().optional(),
    message: z.string().optional(),
    result: z.unknown().optional(),
  }),
);
export const GroupConfigurationPut = entry(
  'GroupConfigurationPut',
  z.object({ group: z.string(), configuration: JsonObject, etag: z.string() }),
);
export const PackageUploaded = entry(
  'PackageUploaded',
  z.object({ name: z.string(), size: z.number().int(), sha256: z.string() }),
);
export const PackageDeleted = entry('PackageDeleted', z.object({ name: z.string(), sha256: z.string() }));
/** An operator gave up on a dead letter: resolved without sending it. */
export const DeadLetterDiscarded = entry('DeadLetterDiscarded', z.object({ id: z.number().int(), seq: z.number().int() }));
export const DeadLetterRetried = entry('DeadLetterRetried', z.object({ id: z.number().int(), seq: z.number().int() }));
export const JournalPruned = entry(
  'JournalPruned',
  z.object({ throughSeq: z.number().int(), removed: z.number().int(), anchorHash: z.string() }),
);

export const Entry = z.discriminatedUnion('type', [
  AgentRegistered,
  AgentKeyRehashed,
  AgentFactsReported,
  AgentDeleted,
  AgentGroupsChanged,
  UserCreated,
  UserDisabled,
  UserEnabled,
  UserDeleted,
  ApiKeyCreated,
  ApiKeyRevoked,
  StatelessEventsReceived,
  StatefulEventsReceived,
  CatalogEntryPut,
  CommandIssued,
  CommandDelivered,
  CommandsDelivered,
  CommandSucceeded,
  CommandFailed,
  CommandExpired,
  CommandCancelled,
  CommandImported,
  CommandStateObserved,
  GroupConfigurationPut,
  PackageUploaded,
  PackageDeleted,
  DeadLetterRetried,
  DeadLetterDiscarded,
  JournalPruned,
]);
/** An entry as a command handler produces it; `body` carries raw bytes (stateless batches). */
export type Entry = z.infer<typeof Entry> & { body?: Buffer };
export type EntryType = Entry['type'];
export type EntryOf<T extends EntryType> = Extract<Entry, { type: T }>;

/** An entry as read back from the journal. */
export type StoredEntry = Entry & { seq: number; time: number };
