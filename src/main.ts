import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import type Router from '@koa/router';
import https from 'node:https';
import type { Socket } from 'node:net';
import { deleteAgent } from './commands/deleteAgent.js';
import { seedCatalog } from './commands/catalogSeed.js';
import { createExpiryScheduler, expireCommands } from './commands/expireCommands.js';
import { issueCommand } from './commands/issueCommand.js';
import { markCommandDelivered } from './commands/markCommandDelivered.js';
import { putCatalogEntry } from './commands/putCatalogEntry.js';
import { recordCommandResult } from './commands/recordCommandResult.js';
import { createCommandsDeliveryPipeline } from './pipelines/commandsDelivery.js';
import { createDrain } from './pipelines/drain.js';
import { createScaleOut } from './pipelines/scaleOut.js';
import { ingestStatefulEvents } from './commands/ingestStatefulEvents.js';
import { randomUUID } from 'node:crypto';
import { createSseHub } from './transport/sse/hub.js';
import { ingestStatelessEvents } from './commands/ingestStatelessEvents.js';
import { registerAgent } from './commands/registerAgent.js';
import { putGroupConfiguration } from './commands/putGroupConfiguration.js';
import { storePackage } from './commands/storePackage.js';
import { createMetrics } from './metrics.js';
import { createPackageStore } from './packages/packageStore.js';
import { configurationPusher } from './queries/configuration.js';
import { createPresence } from './queries/presence.js';
import { join } from 'node:path';
import type { Config } from './config.js';
import { openJournal } from './journal/journal.js';
import { createLogger } from './logger.js';
import { loadTls } from './security/tls.js';
import { createTokenIssuer, loadSigningKeys } from './security/tokens.js';
import { createThrottle } from './security/throttle.js';
import { createApp } from './transport/http/app.js';
import { ADMIN_SOCKET } from './transport/http/auth.js';
import type { HttpDeps } from './transport/http/deps.js';

export interface RunningServer {
  url: string;
  /** The routers (for the OpenAPI coverage test). */
  routers: Router[];
  stop(): Promise<void>;
}

/** The composition root: reads nothing global but `config`, wires everything, owns start and stop. */
export async function startServer(config: Config): Promise<RunningServer> {
  const logger = createLogger(config.logLevel);
  mkdirSync(config.dataDir, { recursive: true });
  const metrics = createMetrics();
  const journal = openJournal({
    dataDir: config.dataDir,
    quotaBytes: config.journalMaxBytes,
    onFlushed: (jobs, entries, ms) => metrics.observeFlush(jobs, entries, ms),
  });
  journal.onCommitted((entries) => metrics.observeCommitted(entries));
  metrics.setSources({
    headSeq: () => journal.reader.headSeq(),
    journalBytes: () => journal.commit.sizeBytes(),
    checkpoints: () => journal.checkpoints.all(),
  });
  const packages = createPackageStore(join(config.dataDir, 'packages'));
  const keys = loadSigningKeys(config.dataDir, config.jwtPrivateKey, config.jwtPublicKey);
  // Commands: catalogue seeds (journaled once), the SSE hub, one expiry timer, the delivery pipeline.
  await seedCatalog(journal);
  const hub = createSseHub();
  // Configuration changes reach the affected agents' streams as `event: config`.
  journal.onCommitted(configurationPusher(journal.db, hub));
  const presence = createPresence();
  const markDelivered = markCommandDelivered(journal);
  const expiry = createExpiryScheduler({
    db: journal.db,
    expire: expireCommands(journal),
    onError: (err) => logger.error({ err }, 'command expiry failed'),
  });
  const commandsDelivery = createCommandsDeliveryPipeline({
    onCommitted: (l) => journal.onCommitted(l),
    hub,
    markDelivered,
    considerDeadline: (at) => expiry.consider(at),
    onError: (err) => logger.warn({ err }, 'journaling command deliveries failed'),
  }).subscribe({ error: (err) => logger.error({ err }, 'commands pipeline stopped') });
  // The journal's way out: engine and indexer pipelines, dead letters, replays, retention.
  const drain = createDrain({ journal, config, logger });
  // Scale-out (with an indexer URL): follow the shared indices, find other nodes' agents and commands.
  const scaleOut = config.indexerUrl
    ? createScaleOut({ journal, hub, indexerUrl: config.indexerUrl, onError: (message, err) => logger.warn({ err }, message) })
    : null;
  const local = {
    issueCommand: issueCommand(journal),
    recordCommandResult: recordCommandResult(journal),
    deleteAgent: deleteAgent(journal),
    registerAgent: registerAgent(journal),
    ingestStateful: ingestStatefulEvents({ ...journal, newBatchId: () => `stateful-${randomUUID()}` }),
  };
  const scaledOut = scaleOut ? scaleOut.adapt(local) : local;
  let accepting = true;
  const deps: HttpDeps = {
    config,
    journal,
    keys,
    issueToken: createTokenIssuer(keys, config.tokenTtl),
    throttle: createThrottle(),
    logger,
    metrics,
    packages,
    hub,
    presence,
    commands: {
      issueCommand: scaledOut.issueCommand,
      recordCommandResult: scaledOut.recordCommandResult,
      markCommandDelivered: markDelivered,
      putCatalogEntry: putCatalogEntry(journal),
      registerAgent: scaledOut.registerAgent,
      deleteAgent: scaledOut.deleteAgent,
      ingestStateless: ingestStatelessEvents(journal),
      ingestStateful: scaledOut.ingestStateful,
      putGroupConfiguration: putGroupConfiguration(journal),
      storePackage: storePackage({ ...journal, store: packages }),
    },
    drain,
    scaleOut: scaleOut?.lookups ?? null,
    // Ready while writes are accepted: a sink that is down only makes its pipeline's state `down`.
    readiness: () => ({
      ready: accepting,
      pipelines: drain.pipelines(),
      indexer: drain.indexerHealth(),
      // scale-out: each index follower's settled and highest `_seq_no`, and its consecutive failures
      ...(scaleOut ? { followers: scaleOut.status() } : {}),
    }),
  };
  const { app, router, rootRouter } = createApp(deps);
  metrics.setSources({ openStreams: () => hub.streamCount(), pipelines: () => deps.readiness().pipelines });
  const handler = app.callback();

  const server = config.insecureHttp
    ? http.createServer({ keepAliveTimeout: 65_000 }, handler)
    : https.createServer({ ...(await loadTls(config.dataDir, config.tlsCert, config.tlsKey)), keepAliveTimeout: 65_000 }, handler);
  server.requestTimeout = 120_000;
  server.headersTimeout = 30_000;
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const scheme = config.insecureHttp ? 'http' : 'https';
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const url = `${scheme}://${shownHost}:${port}`;

  // The admin socket: local platform components, operator rights, the 0600 file mode is the trust.
  rmSync(config.adminSocket, { force: true });
  const admin = http.createServer((req, res) => {
    (req as unknown as Record<symbol, boolean>)[ADMIN_SOCKET] = true;
    return handler(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    admin.once('error', reject);
    const mask = process.umask(0o177);
    admin.listen(config.adminSocket, () => {
      process.umask(mask);
      resolve();
    });
  });
  chmodSync(config.adminSocket, 0o600);
  logger.info({ url, dataDir: config.dataDir, adminSocket: config.adminSocket }, 'comms-api listening');
  const drainRun = drain.run$.subscribe({ error: (err) => logger.error({ err }, 'drain pipelines stopped') });
  const scaleOutRun = scaleOut?.run$.subscribe({ error: (err) => logger.error({ err }, 'index followers stopped') });

  let stopping: Promise<void> | null = null;
  async function stop(): Promise<void> {
    stopping ??= (async () => {
      logger.info('stopping: no new connections, draining in-flight requests');
      accepting = false;
      drainRun.unsubscribe();
      scaleOutRun?.unsubscribe();
      scaleOut?.stop();
      const drained = drain.stop();
      hub.close();
      expiry.stop();
      const closed = Promise.all([
        new Promise<void>((r) => server.close(() => r())),
        new Promise<void>((r) => admin.close(() => r())),
      ]);
      server.closeIdleConnections();
      admin.closeIdleConnections();
      const deadline = setTimeout(() => {
        for (const s of sockets) s.destroy();
        admin.closeAllConnections();
      }, 10_000);
      await closed;
      clearTimeout(deadline);
      commandsDelivery.unsubscribe();
      await drained;
      await scaleOut?.close();
      await journal.close();
      rmSync(config.adminSocket, { force: true });
      logger.info('stopped');
    })();
    return stopping;
  }
  return { url, stop, routers: [router, rootRouter] };
}
