import { readFileSync } from 'node:fs';
import type { Config } from '../../config.js';
import { ConfigError } from '../../config.js';
import type { IndexerClientOptions } from './indexerClient.js';

/**
 * The indexer's address and how to prove who we are to it: the CA that signed its certificate
 * (TLS is always verified), a client certificate, and HTTP basic auth (the security plugin of OpenSearch 2.x has no API keys). Files are read
 * once, at start; one that cannot be read stops start-up naming its variable. Null without a URL.
 */
export function indexerConnection(config: Config): IndexerClientOptions | null {
  if (!config.indexerUrl) return null;
  const read = (file: string | undefined, variable: string): string | undefined => {
    if (!file) return undefined;
    try {
      return readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(`invalid ${variable}: cannot read ${file}: ${(err as Error).message}`);
    }
  };
  if (Boolean(config.indexerCert) !== Boolean(config.indexerKey)) {
    throw new ConfigError('invalid COMMS_API_INDEXER_CERT/COMMS_API_INDEXER_KEY: set both or neither');
  }
  if ((config.indexerUsername === undefined) !== (config.indexerPassword === undefined)) {
    throw new ConfigError('invalid COMMS_API_INDEXER_USERNAME/COMMS_API_INDEXER_PASSWORD: set both or neither');
  }
  const ca = read(config.indexerCa, 'COMMS_API_INDEXER_CA');
  const cert = read(config.indexerCert, 'COMMS_API_INDEXER_CERT');
  const key = read(config.indexerKey, 'COMMS_API_INDEXER_KEY');
  return {
    url: config.indexerUrl,
    ...(ca || cert ? { tls: { ...(ca ? { ca } : {}), ...(cert && key ? { cert, key } : {}) } } : {}),
    ...(config.indexerUsername !== undefined && config.indexerPassword !== undefined
      ? { auth: { username: config.indexerUsername, password: config.indexerPassword } }
      : {}),
  };
}
