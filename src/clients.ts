import type { Config } from './config.js';
import { createEngineClient, type EngineClient } from './engine/engineClient.js';
import { createIndexerClient, type IndexerClient } from './indexer/indexerClient.js';
import { indexerConnection } from './indexer/indexerConnection.js';
import type { SinkObserver } from './metrics.js';

/** The outside systems' clients the pipelines deliver through: the engine always, the indexer when configured. */
export interface SinkClients {
  engine: EngineClient;
  indexer: IndexerClient | null;
}

/** The server's clients: the sinks', and scale-out's own indexer client (short request deadline, its own connections). */
export interface ServerClients extends SinkClients {
  scaleOutIndexer: IndexerClient | null;
}

/** The engine client, each request timed for the latency histogram. */
function timedEngine(client: EngineClient, observer: SinkObserver | undefined): EngineClient {
  if (!observer) return client;
  return {
    async send(body) {
      const started = performance.now();
      const r = await client.send(body);
      observer.observeEngine(r.ok ? 'ok' : r.retryable ? 'failed' : 'refused', (performance.now() - started) / 1000);
      return r;
    },
    close: () => client.close(),
  };
}

/**
 * The one factory of the outside systems' clients, for the server (src/main.ts: the drain and
 * scale-out) and the CLI's data-folder commands (src/cliDrain.ts). The indexer's URL, CA, client
 * certificate and basic auth come from `indexerConnection` (its files read once, here: a missing
 * one throws a ConfigError naming its variable, before anything is opened). With an `observer`
 * (the metrics), engine requests and indexer operations are timed.
 */
export function createSinkClients(config: Config, use: 'cli', opts?: { observer?: SinkObserver }): SinkClients;
export function createSinkClients(config: Config, use: 'server', opts?: { observer?: SinkObserver }): ServerClients;
export function createSinkClients(config: Config, use: 'server' | 'cli', opts: { observer?: SinkObserver } = {}): ServerClients {
  const { observer } = opts;
  const connection = indexerConnection(config);
  const engine = timedEngine(
    createEngineClient({ socketPath: config.engineSocket, timeoutMs: 30_000, maxSockets: use === 'server' ? 2 : 1 }),
    observer,
  );
  const indexer = connection
    ? createIndexerClient({ ...connection, ...(observer ? { observe: (op: string, ok: boolean, s: number) => observer.observeIndexer(op, ok, s) } : {}) })
    : null;
  const scaleOutIndexer = connection && use === 'server' ? createIndexerClient({ ...connection, requestTimeoutMs: 10_000 }) : null;
  return { engine, indexer, scaleOutIndexer };
}

/** Closes every client (an indexer that cannot be reached is not an error at shutdown). */
export async function closeSinkClients(clients: SinkClients & { scaleOutIndexer?: IndexerClient | null }): Promise<void> {
  clients.engine.close();
  await Promise.all([clients.indexer?.close().catch(() => {}), clients.scaleOutIndexer?.close().catch(() => {})]);
}
