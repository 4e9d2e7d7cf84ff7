import type { Logger } from 'pino';
import type { ingestStatelessEvents } from '../../commands/ingestStatelessEvents.js';
import type { ingestStatefulEvents } from '../../commands/ingestStatefulEvents.js';
import type { Drain } from '../../pipelines/drain.js';
import type { registerAgent } from '../../commands/registerAgent.js';
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
import type { ScaleOutLookups } from '../../pipelines/scaleOut.js';
import type { putGroupConfiguration } from '../../commands/putGroupConfiguration.js';
import type { deletePackage, storePackage } from '../../commands/storePackage.js';
import type { discardDeadLetter } from '../../commands/retryDeadLetter.js';
import type { Metrics } from '../../metrics.js';
import type { PackageStore } from '../../packages/packageStore.js';
import type { Presence } from '../../queries/presence.js';
import type { Config } from '../../config.js';
import type { Journal } from '../../journal/journal.js';
import type { SigningKeys, TokenIssuer } from '../../security/tokens.js';
import type { Throttle } from '../../security/throttle.js';

export interface ReadyReport {
  ready: boolean;
  pipelines: Record<string, { state: string; lag: number; [k: string]: unknown }>;
  [k: string]: unknown;
}

/** Everything the HTTP layer needs, passed in by the composition root (src/main.ts). */
export interface HttpDeps {
  config: Config;
  journal: Journal;
  keys: SigningKeys;
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
  readiness(): ReadyReport;
}
