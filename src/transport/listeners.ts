import { chmodSync, rmSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { Config } from '../config.js';
import { loadTls } from '../security/tls.js';
import { ADMIN_SOCKET } from './http/auth.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

export interface Listeners {
  /** The agent-facing base URL (a wildcard host is shown as 127.0.0.1). */
  url: string;
  /** Stops accepting, closes idle connections, waits for in-flight ones (destroyed after `graceMs`). */
  close(graceMs?: number): Promise<void>;
}

function listen(server: http.Server, ...args: [number, string] | [string]): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(...(args as [number, string]), () => resolve());
  });
}

/** A socket file nobody answers on is left over (kill -9): removed. One that answers belongs to a running process. */
async function removeStaleSocket(path: string): Promise<void> {
  if (!statSync(path, { throwIfNoEntry: false })) return;
  const answers = await new Promise<boolean>((resolve) => {
    const c = connect(path);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
  if (answers) throw new Error(`admin socket ${path} is in use by another process; stop it or set COMMS_API_ADMIN_SOCKET`);
  rmSync(path, { force: true });
}

/**
 * The two ways in: the agent-facing listener (HTTPS with the configured or a generated
 * self-signed pair, or plain HTTP when `insecureHttp`), and the admin Unix socket, whose 0600
 * file mode is the trust: requests over it carry operator rights without a token.
 */
export async function openListeners(config: Config, handler: Handler): Promise<Listeners> {
  const options = { requestTimeout: 120_000, headersTimeout: 30_000 };
  const server = config.insecureHttp
    ? http.createServer(options, handler)
    : https.createServer({ ...(await loadTls(config.dataDir, config.tlsCert, config.tlsKey)), ...options }, handler);
  // longer than the usual load balancer idle timeout (60 s), so the balancer closes first
  server.keepAliveTimeout = 65_000;
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await listen(server, config.port, config.host);
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const shownHost = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const url = `${config.insecureHttp ? 'http' : 'https'}://${shownHost}:${port}`;

  await removeStaleSocket(config.adminSocket);
  const admin = http.createServer((req, res) => {
    (req as unknown as Record<symbol, boolean>)[ADMIN_SOCKET] = true;
    handler(req, res);
  });
  const mask = process.umask(0o177);
  try {
    await listen(admin, config.adminSocket);
  } finally {
    process.umask(mask);
  }
  chmodSync(config.adminSocket, 0o600);
  const ours = statSync(config.adminSocket);

  return {
    url,
    async close(graceMs = 10_000) {
      const closed = Promise.all([
        new Promise<void>((r) => server.close(() => r())),
        new Promise<void>((r) => admin.close(() => r())),
      ]);
      server.closeIdleConnections();
      admin.closeIdleConnections();
      const deadline = setTimeout(() => {
        for (const s of sockets) s.destroy();
        admin.closeAllConnections();
      }, graceMs);
      await closed;
      clearTimeout(deadline);
      // only the socket this process created: another process's one at the same path stays
      const now = statSync(config.adminSocket, { throwIfNoEntry: false });
      if (now && now.ino === ours.ino && now.dev === ours.dev) rmSync(config.adminSocket, { force: true });
    },
  };
}
