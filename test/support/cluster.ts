/**
 * N server processes sharing one OpenSearch node, the JWT key pair and the agent-key secret, as a
 * per-request load balancer sees them: tests talk to node i over HTTP/SSE (and to its admin socket
 * only for operator setup steps). The OpenSearch node is the run's (OPENSEARCH_URL) or a private one.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { adminCall, call, login, type Reply } from './client.js';
import { startOpenSearch, type OpenSearchNode } from './opensearch/node.js';
import { spawnServer, tempDir, type ServerProcess } from './server.js';
import { openSse, type SseOptions, type SseStream } from './sse.js';

export interface ClusterNode {
  /** Position in `cluster.nodes`. */
  index: number;
  dataDir: string;
  /** The node's admin Unix socket. */
  socket: string;
  server: ServerProcess;
  /** `http://127.0.0.1:port/api/v1` of the running process. */
  api: string;
}

export interface CallOptions {
  token?: string;
  json?: unknown;
  body?: string | Buffer;
  type?: string;
  headers?: Record<string, string>;
}

export interface Cluster {
  osUrl: string;
  /** Unique per cluster: the OpenSearch node may be shared with other suites of the run. */
  runId: string;
  keysDir: string;
  nodes: ClusterNode[];
  /** `method` `path` (below /api/v1) on node i, over HTTP. */
  call<T = any>(i: number, method: string, path: string, opts?: CallOptions): Promise<Reply<T>>;
  /** `method` `path` (below /api/v1) on node i's admin socket (operator setup steps only). */
  admin(i: number, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  /** POST /login on node i; the token (throws when refused). */
  login(i: number, credentials: { uuid: string; key: string } | { username: string; password: string }): Promise<string>;
  /** Opens `GET path` (below /api/v1) as an SSE stream on node i; closed by `stop()`. */
  sse(i: number, path: string, opts?: SseOptions): Promise<SseStream>;
  /** The `_source` of a document straight from OpenSearch (real-time get), or undefined. */
  osDoc(index: string, id: string): Promise<Record<string, any> | undefined>;
  /** Sends `signal` to node i's process and waits until it is gone. */
  kill(i: number, signal?: NodeJS.Signals): Promise<number | null>;
  /** Starts node i again on its data folder (after `kill`). */
  restart(i: number): Promise<ClusterNode>;
  /** Closes the streams, stops every node, removes the folders (and the private OpenSearch). */
  stop(): Promise<void>;
}

export interface ClusterOptions {
  /** How many server processes (default 3). */
  nodes?: number;
  /** Used in temp folder names. */
  name?: string;
  /** Extra environment for every node. */
  env?: Record<string, string>;
}

function writeSharedKeys(dir: string): void {
  const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  writeFileSync(join(dir, 'jwt-private.pem'), pair.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  writeFileSync(join(dir, 'jwt-public.pem'), pair.publicKey.export({ type: 'spki', format: 'pem' }));
  writeFileSync(join(dir, 'agent-key-secret'), randomBytes(32).toString('base64url'), { mode: 0o600 });
}

export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const count = opts.nodes ?? 3;
  const name = opts.name ?? 'cluster';
  let os: OpenSearchNode | undefined;
  let osUrl = process.env.OPENSEARCH_URL;
  if (!osUrl) {
    os = await startOpenSearch({ javaOpts: '-Xms512m -Xmx512m' });
    osUrl = os.url;
  }
  const keysDir = tempDir(`comms-api-${name}-keys-`);
  writeSharedKeys(keysDir);
  const env: Record<string, string> = {
    COMMS_API_INDEXER_URL: osUrl,
    COMMS_API_JWT_PRIVATE_KEY: join(keysDir, 'jwt-private.pem'),
    COMMS_API_JWT_PUBLIC_KEY: join(keysDir, 'jwt-public.pem'),
    COMMS_API_AGENT_KEY_SECRET_FILE: join(keysDir, 'agent-key-secret'),
    ...(opts.env ?? {}),
  };
  const streams: SseStream[] = [];
  const spawnOn = async (index: number, dataDir: string): Promise<ClusterNode> => {
    const server = await spawnServer(dataDir, env);
    return { index, dataDir, socket: join(dataDir, 'admin.sock'), server, api: server.api };
  };
  const dirs = Array.from({ length: count }, (_, i) => tempDir(`comms-api-${name}-${i}-`));
  const nodes = await Promise.all(dirs.map((d, i) => spawnOn(i, d)));
  const node = (i: number): ClusterNode => {
    const n = nodes[i];
    if (!n) throw new Error(`no node ${i} in a cluster of ${nodes.length}`);
    return n;
  };
  return {
    osUrl,
    runId: randomBytes(5).toString('hex'),
    keysDir,
    nodes,
    call: (i, method, path, o = {}) => call(method, `${node(i).api}${path}`, o),
    admin: (i, method, path, body) => adminCall(node(i).socket, method, path, body),
    login: (i, credentials) => login(node(i).api, credentials),
    async sse(i, path, o = {}) {
      const s = await openSse(`${node(i).api}${path}`, o);
      streams.push(s);
      return s;
    },
    async osDoc(index, id) {
      const r = await fetch(`${osUrl}/${index}/_doc/${encodeURIComponent(id)}`);
      const body = (await r.json()) as { found?: boolean; _source?: Record<string, any> };
      return body.found ? body._source : undefined;
    },
    kill: (i, signal = 'SIGTERM') => node(i).server.kill(signal),
    async restart(i) {
      const fresh = await spawnOn(i, node(i).dataDir);
      nodes[i] = fresh;
      return fresh;
    },
    async stop() {
      for (const s of streams) s.close();
      await Promise.all(nodes.map((n) => n.server.kill('SIGTERM')));
      for (const n of nodes) rmSync(n.dataDir, { recursive: true, force: true });
      await os?.stop();
      rmSync(keysDir, { recursive: true, force: true });
    },
  };
}
