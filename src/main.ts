import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type Router from '@koa/router';
import { seedCatalog } from './commands/seedCatalog.js';
import { deleteAgent } from './commands/deleteAgent.js';
import { createExpiryScheduler, expireCommands } from './commands/expireCommands.js';
import { ingestStatefulEvents } from './commands/ingestStatefulEvents.js';
import { ingestStatelessEvents } from './commands/ingestStatelessEvents.js';
import { createStatelessWriter } from './commands/statelessWriter.js';
import { createStatelessChecker } from './commands/statelessChecker.js';
import { issueCommand } from './commands/issueCommand.js';
import { cancelCommand } from './commands/cancelCommand.js';
import { createUser } from './commands/createUser.js';
import { userLifecycle } from './commands/userLifecycle.js';
import { createApiKey, revokeApiKey } from './commands/apiKeys.js';
import { markCommandDelivered } from './commands/markCommandDelivered.js';
import { reportAgentFacts } from './commands/reportAgentFacts.js';
import { putCatalogEntry } from './commands/putCatalogEntry.js';
import { putGroupConfiguration } from './commands/putGroupConfiguration.js';
import { recordCommandResult } from './commands/recordCommandResult.js';
import { registerAgent } from './commands/registerAgent.js';
import { rehashAgentKey } from './commands/rehashAgentKey.js';
import { deletePackage, storePackage } from './commands/storePackage.js';
import { discardDeadLetter } from './pipelines/retryDeadLetter.js';
import type { Config } from './config.js';
import { bindDb } from './journal/database.js';
import { openJournal } from './journal/journal.js';
import { verifyJournal } from './evidence/verifyJournal.js';
import { checkReceipt } from './evidence/receipt.js';
import { createProjections } from './projections/index.js';
import { headSigning, loadEvidence } from './evidence/evidence.js';
import { createHeadsPublisher } from './evidence/headsIndex.js';
import { acquireDataFolderLock } from './node/dataFolderLock.js';
import { createWriteState, WritesRefusedError } from './node/writeState.js';
import { JournalClosedError, JournalFullError } from './journal/errors.js';
import { createIndexerClient } from './indexer/indexerClient.js';
import { indexerConnection } from './indexer/indexerConnection.js';
import { announce, createLogger } from './logger.js';
import { createMetrics } from './metrics.js';
import { agentStatusCounts } from './projections/agentsReads.js';
import { createOpenDeadLetterCounts } from './queries/backlog.js';
import { packageVersion } from './version.js';
import { createPackageStore } from './packages/packageStore.js';
import { createCommandsDeliveryPipeline } from './pipelines/commandsDelivery.js';
import { createDrain } from './pipelines/drain.js';
import { createScaleOut } from './scaleOut/scaleOut.js';
import { createSharedState } from './scaleOut/sharedState.js';
import { createConfigurationPusher } from './pipelines/configurationPush.js';
import { createPresence } from './queries/presence.js';
import { secureDataDir } from './security/dataDir.js';
import { configureSecretHashing } from './security/secrets.js';
import { createAgentKeyHasher, loadAgentKeySecret } from './security/agentKeys.js';
import { createThrottle } from './security/throttle.js';
import { createTokenIssuer, loadSigningKeys } from './security/tokens.js';
import { createApp } from './transport/http/app.js';
import { HTTP_READS, type HttpDeps } from './transport/http/deps.js';
import { closeSinkClients, createSinkClients } from './clients.js';
import { openListeners } from './transport/listeners.js';
import { openMetricsListener } from './transport/metricsListener.js';
import { createSseHub } from './transport/sse/hub.js';

export interface RunningServer {
  url: string;
  /** The metrics-only listener's base URL, when `metricsPort` is set. */
  metricsUrl?: string;
  /** The routers (for the OpenAPI coverage test). */
  routers: Router[];
  stop(): Promise<void>;
}

/** An expected refusal (journal full or closing, lock lost): logged once per episode elsewhere, never with a stack. */
function refusal(err: unknown): string | null {
  const expected = err instanceof JournalFullError || err instanceof JournalClosedError || err instanceof WritesRefusedError;
  return expected ? `write refused: ${(err as Error).message}` : null;
}

/** The composition root: reads nothing global but `config`, wires everything, owns start and stop. */
export async function startServer(config: Config): Promise<RunningServer> {
  const logger = createLogger(config.logLevel);
  // read (and checked) before anything is opened: a missing CA or key file stops start-up
  const metrics = createMetrics({ version: packageVersion() });
  const clients = createSinkClients(config, 'server', { observer: metrics });
  configureSecretHashing({ concurrency: config.hashConcurrency, maxQueued: config.hashQueue });
  for (const warning of secureDataDir(config.dataDir)) logger.warn({ dataDir: config.dataDir }, warning);
  // One server per data folder, for the life of this one (a second `serve` is refused, naming it).
  const lock = acquireDataFolderLock(config.dataDir);
  try {
    return await startLocked(config, logger, lock, clients, metrics);
  } catch (err) {
    lock.release();
    await closeSinkClients(clients);
    throw err;
  }
}

async function startLocked(
  config: Config,
  logger: ReturnType<typeof createLogger>,
  lock: ReturnType<typeof acquireDataFolderLock>,
  clients: ReturnType<typeof createSinkClients>,
  metrics: ReturnType<typeof createMetrics>,
): Promise<RunningServer> {
  const evidence = loadEvidence(config)!;
  let writes: ReturnType<typeof createWriteState> | null = null;
  let publishHeads: (() => void) | null = null;
  const journal = openJournal({
    projections: createProjections,
    dataDir: config.dataDir,
    quotaBytes: config.journalMaxBytes,
    heads: headSigning(config, evidence, () => publishHeads?.()),
    admit: () => writes?.admit() ?? null,
    onFlushed: (jobs, entries, ms) => metrics.observeFlush(jobs, entries, ms),
  });
  journal.onCommitted((entries) => metrics.observeCommitted(entries));
  writes = createWriteState({
    sizeBytes: () => journal.commit.sizeBytes(),
    quotaBytes: config.journalMaxBytes,
    checkLock: () => lock.check(),
    logger,
  });
  metrics.setSources({
    headSeq: () => journal.reader.headSeq(),
    journalBytes: () => journal.commit.sizeBytes(),
    checkpoints: () => journal.checkpoints.all(),
    journalQuotaBytes: () => config.journalMaxBytes,
    openDeadLetters: createOpenDeadLetterCounts(journal.db),
  });
  const packages = createPackageStore(join(config.dataDir, 'packages'));
  const keys = loadSigningKeys(config.dataDir, config.jwtPrivateKey, config.jwtPublicKey);
  const agentKeys = createAgentKeyHasher(loadAgentKeySecret(config.dataDir, config.agentKeySecretFile));
  // Commands: catalogue seeds (journaled once), the SSE hub, one expiry timer, the delivery pipeline.
  await seedCatalog(journal);
  // The head as it is now is signed at once, then every N entries and T seconds (and at a clean stop).
  journal.heads!.signNow();
  journal.heads!.start();
  const hub = createSseHub();
  // Configuration changes reach the affected agents' streams as `event: config`.
  journal.onCommitted(createConfigurationPusher(journal.db, hub));
  const presence = createPresence();
  const markDelivered = markCommandDelivered(journal);
  const expiry = createExpiryScheduler({
    db: journal.db,
    expire: expireCommands(journal),
    onError: (err) => (refusal(err) ? logger.debug(refusal(err)!) : logger.error({ err }, 'command expiry failed')),
  });
  const commandsDelivery = createCommandsDeliveryPipeline({
    onCommitted: (l) => journal.onCommitted(l),
    hub,
    markDelivered,
    considerDeadline: (at) => expiry.consider(at),
    onError: (err) => (refusal(err) ? logger.debug(refusal(err)!) : logger.warn({ err }, 'journaling command deliveries failed')),
  }).subscribe({ error: (err) => logger.error({ err }, 'commands pipeline stopped') });
  // The journal's way out: engine and indexer pipelines, dead letters, replays, retention.
  const drain = createDrain({ journal, config, logger, clients });
  // Scale-out (with an indexer URL): follow the shared indices, find other nodes' agents and commands.
  const scaleOut = clients.scaleOutIndexer
    ? createScaleOut({ journal, hub, store: packages, indexer: clients.scaleOutIndexer, onError: (message, err) => logger.warn({ err }, message) })
    : null;
  // Cluster mode: users, the catalogue and group configurations are shared through their indices.
  const shared = clients.scaleOutIndexer
    ? createSharedState({ journal, indexer: clients.scaleOutIndexer, onError: (message, err) => logger.warn({ err }, message) })
    : null;
  const local = {
    // cluster mode: the commands index takes a command before it is journaled and acknowledged
    issueCommand: issueCommand({ ...journal, ...(scaleOut ? { publisher: scaleOut.commandPublisher } : {}) }),
    recordCommandResult: recordCommandResult(journal),
    deleteAgent: deleteAgent(journal),
    registerAgent: registerAgent({ ...journal, hashKey: agentKeys.hash }),
    ingestStateful: ingestStatefulEvents({ ...journal, newBatchId: () => `stateful-${randomUUID()}` }),
  };
  const scaledOut = scaleOut ? scaleOut.adapt(local) : local;
  const sharedCommands = {
    issueCommand: scaledOut.issueCommand,
    createUser: createUser(journal),
    userLifecycle: userLifecycle(journal),
    createApiKey: createApiKey(journal),
    revokeApiKey: revokeApiKey(journal),
    putCatalogEntry: putCatalogEntry(journal),
    putGroupConfiguration: putGroupConfiguration(journal),
  };
  const clustered = shared ? shared.adapt(sharedCommands) : sharedCommands;
  // Large stateless batches are checked and written in a worker thread (the event loop stays free).
  const statelessWriter = createStatelessWriter(journal);
  const statelessChecker = createStatelessChecker();
  const deps: HttpDeps = {
    config,
    journal: {
      stats: journal.stats,
      verify: () => verifyJournal(journal.db, { key: evidence.key, node: evidence.node }),
      checkReceipt: (receipt) => checkReceipt(journal.db, receipt, evidence.key),
      listDeadLetters: journal.deadLetters.list, quotaBytes: config.journalMaxBytes },
    reads: bindDb(journal.db, HTTP_READS),
    keys,
    agentKeys,
    evidence,
    issueToken: createTokenIssuer(keys, config.tokenTtl),
    throttle: createThrottle(),
    logger,
    metrics,
    packages,
    hub,
    presence,
    commands: {
      issueCommand: clustered.issueCommand,
      cancelCommand: cancelCommand(journal),
      createUser: clustered.createUser,
      userLifecycle: clustered.userLifecycle,
      createApiKey: clustered.createApiKey,
      revokeApiKey: clustered.revokeApiKey,
      recordCommandResult: scaledOut.recordCommandResult,
      markCommandDelivered: markDelivered,
      rehashAgentKey: rehashAgentKey(journal),
      putCatalogEntry: clustered.putCatalogEntry,
      registerAgent: scaledOut.registerAgent,
      reportAgentFacts: reportAgentFacts(journal),
      deleteAgent: scaledOut.deleteAgent,
      ingestStateless: ingestStatelessEvents({ ...journal, check: statelessChecker, offload: statelessWriter }),
      ingestStateful: scaledOut.ingestStateful,
      putGroupConfiguration: clustered.putGroupConfiguration,
      // cluster mode: content, names and tombstones go to the shared package store before the journal
      storePackage: storePackage({ ...journal, store: packages, ...(scaleOut ? { publisher: scaleOut.packagePublisher } : {}) }),
      deletePackage: deletePackage({ ...journal, store: packages, ...(scaleOut ? { publisher: scaleOut.packagePublisher } : {}) }),
      discardDeadLetter: discardDeadLetter(journal),
    },
    drain,
    scaleOut: scaleOut?.lookups ?? null,
    sharedUsers: shared?.lookups ?? null,
    // Ready while writes are accepted: a sink that is down only makes its pipeline's state `down`.
    readiness: () => {
      const refused = writes!.reason();
      return {
        ready: refused === null,
        ...(refused ? { reason: refused } : {}),
        pipelines: drain.pipelines(),
        indexer: drain.indexerHealth(),
        // scale-out: each index follower's settled and highest `_seq_no`, and its consecutive failures
        ...(scaleOut ? { followers: { ...scaleOut.status(), ...shared?.status() } } : {}),
      };
    },
  };
  const { handler, agentRouter, router, rootRouter } = createApp(deps);
  metrics.setSources({
    openStreams: () => hub.streamCount(),
    longPolls: () => hub.waitingCount(),
    pipelines: () => deps.readiness().pipelines,
    backlogs: () => drain.backlogs(),
    agents: () => agentStatusCounts(journal.db, { connected: (a) => hub.isConnected(a), seenAt: (a) => presence.lastSeen(a) }, Date.now()),
  });

  const listeners = await openListeners(config, handler);
  const url = listeners.url;
  lock.describe(url, config.adminSocket);
  writes.start();
  // With an indexer, signed heads are also kept outside the node (`comms-journal-heads`).
  const connection = indexerConnection(config);
  const headsClient = connection ? createIndexerClient(connection) : null;
  const headsPublisher = headsClient
    ? createHeadsPublisher({ db: journal.db, client: headsClient, node: evidence.node, publicKeyPem: evidence.key.publicKeyPem, logger })
    : null;
  headsPublisher?.start();
  if (headsPublisher) publishHeads = () => void headsPublisher.push();
  const metricsListener =
    config.metricsPort !== undefined
      ? await openMetricsListener({ host: config.metricsHost, port: config.metricsPort }, metrics).catch(async (err: unknown) => {
          await listeners.close(0);
          throw err;
        })
      : null;
  announce(logger, { url, dataDir: config.dataDir, adminSocket: config.adminSocket, ...(metricsListener ? { metricsUrl: metricsListener.url } : {}) }, `comms-api serving on ${url}`);
  const drainRun = drain.run$.subscribe({ error: (err) => logger.error({ err }, 'drain pipelines stopped') });
  const scaleOutRun = scaleOut?.run$.subscribe({ error: (err) => logger.error({ err }, 'index followers stopped') });
  const sharedRun = shared?.run$.subscribe({ error: (err) => logger.error({ err }, 'shared index followers stopped') });

  let stopping: Promise<void> | null = null;
  async function stop(): Promise<void> {
    stopping ??= (async () => {
      logger.info('stopping: no new connections, draining in-flight requests');
      writes!.stopping();
      drainRun.unsubscribe();
      scaleOutRun?.unsubscribe();
      scaleOut?.stop();
      sharedRun?.unsubscribe();
      shared?.stop();
      const drained = drain.stop();
      hub.close();
      expiry.stop();
      await Promise.all([listeners.close(), metricsListener?.close()]);
      commandsDelivery.unsubscribe();
      await drained;
      await closeSinkClients(clients);
      await journal.commit.flushed();
      try {
        journal.heads!.signNow(); // the last head, so the indexer gets it too
      } catch (err) {
        logger.warn({ err }, 'could not sign the journal head at stop; the next start signs it');
      }
      await headsPublisher?.stop();
      await headsClient?.close().catch(() => {});
      await journal.close();
      await statelessWriter.close();
      await statelessChecker.close();
      lock.release();
      logger.info('stopped');
    })();
    return stopping;
  }
  return { url, stop, routers: [agentRouter, router, rootRouter], ...(metricsListener ? { metricsUrl: metricsListener.url } : {}) };
}
