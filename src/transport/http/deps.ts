import type { Logger } from 'pino';
import type { ingestStatelessEvents } from '../../commands/ingestStatelessEvents.js';
import type { ingestStatefulEvents } from '../../commands/ingestStatefulEvents.js';
import type { Drain } from '../../pipelines/drain.js';
import type { registerAgent } from '../../commands/registerAgent.js';
import type { rehashAgentKey } from '../../commands/rehashAgentKey.js';
import type { AgentKeyHasher } from '../../security/agentKeys.js';
import type { reportAgentFacts } from '../../commands/reportAgentFacts.js';
import type { deleteAgent } from '../../commands/deleteAgent.js';
import type { issueCommand } from '../../commands/issueCommand.js';
import type { cancelCommand } from '../../commands/cancelCommand.js';
import type { userLifecycle } from '../../commands/userLifecycle.js';
import type { createApiKey, revokeApiKey } from '../../commands/apiKeys.js';
import type { createUser } from '../../commands/createUser.js';
import type { markCommandDelivered } from '../../commands/markCommandDelivered.js';
import type { putCatalogEntry } from '../../commands/putCatalogEntry.js';
import type { recordCommandResult } from '../../commands/recordCommandResult.js';
import type { SseHub } from '../sse/hub.js';
import type { ScaleOutLookups } from '../../scaleOut/scaleOut.js';
import type { SharedUserLookups } from '../../scaleOut/sharedState.js';
import type { putGroupConfiguration } from '../../commands/putGroupConfiguration.js';
import type { deletePackage, storePackage } from '../../commands/storePackage.js';
import type { discardDeadLetter } from '../../pipelines/retryDeadLetter.js';
import type { Metrics } from '../../metrics.js';
import type { PackageStore } from '../../packages/packageStore.js';
import type { Presence } from '../../queries/presence.js';
import type { Config } from '../../config.js';
import type { BoundToDb } from '../../journal/database.js';
import type { DeadLetterStore } from '../../journal/deadLetters.js';
import type { JournalStats } from '../../journal/journalStats.js';
import type { JournalVerdict } from '../../evidence/verifyJournal.js';
import type { ReceiptCheck, ReceiptFields } from '../../evidence/receipt.js';
import { agentStanding, findAgent } from '../../projections/agentsReads.js';
import { findCatalogEntry, listCatalog } from '../../projections/catalogReads.js';
import { commandDetails, pendingCommands } from '../../projections/commandsReads.js';
import { groupConfiguration, listGroups } from '../../projections/groupsReads.js';
import { findPackage, listPackages } from '../../projections/packagesReads.js';
import { commandHistory } from '../../queries/commandHistory.js';
import { agentConfiguration } from '../../queries/configuration.js';
import { findStatefulBatch } from '../../queries/statefulBatches.js';
import { apiKeysPage, findApiKey, findUser, userRevokedAt, usersPage } from '../../projections/usersReads.js';
import { listAgents } from '../../queries/agentsList.js';
import { auditTrail } from '../../queries/audit.js';
import type { SigningKeys, TokenIssuer } from '../../security/tokens.js';
import type { Throttle } from '../../security/throttle.js';
import type { Evidence } from '../../evidence/evidence.js';

/** The reads the routes and the token check use, unbound: the composition root binds them to the database once (`bindDb`). */
export const HTTP_READS = {
  findAgent, listAgents, agentStanding, findUser, userRevokedAt, findApiKey, usersPage, apiKeysPage,
  findCatalogEntry, listCatalog,
  pendingCommands, commandDetails, commandHistory,
  groupConfiguration, listGroups, agentConfiguration,
  auditTrail,
  findPackage, listPackages,
  findStatefulBatch,
};
export type HttpReads = { [K in keyof typeof HTTP_READS]: BoundToDb<(typeof HTTP_READS)[K]> };

/** What HTTP may ask of the journal itself: never the database. */
export interface JournalPorts {
  stats(): JournalStats;
  /** The chain checked against every signed head. */
  verify(): JournalVerdict;
  /** Whether the journal still holds a receipt's entry (seq, chain hash, signature). */
  checkReceipt(receipt: ReceiptFields): ReceiptCheck;
  listDeadLetters: DeadLetterStore['list'];
  /** The journal quota (`COMMS_API_JOURNAL_MAX_BYTES`). */
  quotaBytes: number;
}

export interface ReadyReport {
  ready: boolean;
  pipelines: Record<string, { state: string; lag: number; [k: string]: unknown }>;
  [k: string]: unknown;
}

/** Everything the HTTP layer needs, passed in by the composition root (src/main.ts). */
export interface HttpDeps {
  config: Config;
  journal: JournalPorts;
  /** Read models and queries, bound to the database by the root. */
  reads: HttpReads;
  keys: SigningKeys;
  /** Agent keys: HMAC with the secret kept outside the database (legacy scrypt hashes still verify). */
  agentKeys: AgentKeyHasher;
  /** The journal head key and this node's id (signed heads, `journal/verify`). */
  evidence: Evidence;
  issueToken: TokenIssuer;
  throttle: Throttle;
  logger: Logger;
  metrics: Metrics;
  /** Package files (content-addressed, under <data>/packages). */
  packages: PackageStore;
  /** When this node last heard from each agent (GET /agents status). */
  presence: Presence;
  /** Agents' open SSE streams: `isConnected`, `connectedCount`, `pushConfig(agents, data)`. */
  hub: SseHub;
  commands: {
    issueCommand: ReturnType<typeof issueCommand>;
    cancelCommand: ReturnType<typeof cancelCommand>;
    createUser: ReturnType<typeof createUser>;
    userLifecycle: ReturnType<typeof userLifecycle>;
    createApiKey: ReturnType<typeof createApiKey>;
    revokeApiKey: ReturnType<typeof revokeApiKey>;
    recordCommandResult: ReturnType<typeof recordCommandResult>;
    markCommandDelivered: ReturnType<typeof markCommandDelivered>;
    putCatalogEntry: ReturnType<typeof putCatalogEntry>;
    registerAgent: ReturnType<typeof registerAgent>;
    rehashAgentKey: ReturnType<typeof rehashAgentKey>;
    reportAgentFacts: ReturnType<typeof reportAgentFacts>;
    deleteAgent: ReturnType<typeof deleteAgent>;
    ingestStateless: ReturnType<typeof ingestStatelessEvents>;
    ingestStateful: ReturnType<typeof ingestStatefulEvents>;
    putGroupConfiguration: ReturnType<typeof putGroupConfiguration>;
    storePackage: ReturnType<typeof storePackage>;
    deletePackage: ReturnType<typeof deletePackage>;
    discardDeadLetter: ReturnType<typeof discardDeadLetter>;
  };
  /** Pipelines to the engine and the indexer: state and lag, stateful waiters, dead letters, replays, retention. */
  drain: Drain;
  /** With an indexer URL: agents and commands of other nodes, read from the shared indices; null on a lone node. */
  scaleOut: ScaleOutLookups | null;
  /** Cluster mode: users of other nodes, read from the users index; null (or absent) on a lone node. */
  sharedUsers?: SharedUserLookups | null;
  readiness(): ReadyReport;
}
