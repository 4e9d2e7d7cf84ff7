import type { Config } from './config.js';
import { createEngineClient, type EngineClient } from './engine/engineClient.js';
import { createIndexerClient, type IndexerClient } from './indexer/indexerClient.js';
import { indexerConnection } from './indexer/indexerConnection.js';

/** The outside systems' clients the pipelines deliver through: the engine always, the indexer when configured. */
export interface SinkClients {
  engine: EngineClient;
  indexer: IndexerClient | null;
}

/**
 * The factory of the sinks' clients for the CLI's data-folder commands (src/cliDrain.ts); the server's
 * drain builds its own, timed for the metrics (to be folded in here: see README "Architecture").
 */
export function createSinkClients(config: Config, use: 'server' | 'cli'): SinkClients {
  const connection = indexerConnection(config);
  return {
    engine: createEngineClient({ socketPath: config.engineSocket, timeoutMs: 30_000, maxSockets: use === 'server' ? 2 : 1 }),
    indexer: connection ? createIndexerClient(connection) : null,
  };
}

/** Closes both clients (an indexer that cannot be reached is not an error at shutdown). */
export async function closeSinkClients(clients: SinkClients): Promise<void> {
  clients.engine.close();
  await clients.indexer?.close().catch(() => {});
}
