import type { Config } from './config.js';
import { createEngineClient, type EngineClient } from './engine/engineClient.js';
import { createIndexerClient, type IndexerClient } from './indexer/indexerClient.js';

/** The outside systems' clients the pipelines deliver through: the engine always, the indexer when configured. */
export interface SinkClients {
  engine: EngineClient;
  indexer: IndexerClient | null;
}

/**
 * The one factory of the sinks' clients, used by the server (src/main.ts) and by the CLI
 * (src/cliDrain.ts): the server keeps two engine sockets (its pipeline and replays), a CLI run one.
 */
export function createSinkClients(config: Pick<Config, 'engineSocket' | 'indexerUrl'>, use: 'server' | 'cli'): SinkClients {
  return {
    engine: createEngineClient({ socketPath: config.engineSocket, timeoutMs: 30_000, maxSockets: use === 'server' ? 2 : 1 }),
    indexer: config.indexerUrl ? createIndexerClient({ url: config.indexerUrl }) : null,
  };
}

/** Closes both clients (an indexer that cannot be reached is not an error at shutdown). */
export async function closeSinkClients(clients: SinkClients): Promise<void> {
  clients.engine.close();
  await clients.indexer?.close().catch(() => {});
}
