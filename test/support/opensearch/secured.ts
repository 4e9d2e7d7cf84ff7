// Test helper: a second, secured OpenSearch node (security plugin on: HTTPS with a throw-away CA, one internal
// user with basic auth, client certificates accepted). secure-config.sh writes its certificates and users.
//
//   const os = await startSecuredOpenSearch();   // os.url = https://127.0.0.1:PORT
//   ... os.ca (path of the CA's PEM), os.user / os.password, os.clientCert / os.clientKey ...
//   await os.stop();                              // also removes the certificates
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runScriptPath, startOpenSearch, type OpenSearchNode, type StartOpenSearchOptions } from './node.js';

export interface SecuredOpenSearchNode extends OpenSearchNode {
  /** PEM files: the CA that signed the node's certificate, a client pair for `user`. */
  ca: string;
  clientCert: string;
  clientKey: string;
  user: string;
  password: string;
}

export async function startSecuredOpenSearch(
  opts: Omit<StartOpenSearchOptions, 'securityDir'> & { user?: string; password?: string } = {},
): Promise<SecuredOpenSearchNode> {
  const user = opts.user ?? 'comms-api';
  const password = opts.password ?? 'a long test password 4 comms-api!';
  const dir = mkdtempSync(join(tmpdir(), 'comms-api-os-security-'));
  try {
    execFileSync('bash', [join(dirname(runScriptPath()), 'secure-config.sh'), dir, user, password], { stdio: ['ignore', 'ignore', 'pipe'] });
    const node = await startOpenSearch({ painless: false, javaOpts: '-Xms384m -Xmx768m', ...opts, securityDir: dir });
    const stop = async () => {
      await node.stop();
      rmSync(dir, { recursive: true, force: true });
    };
    return { ...node, stop, ca: join(dir, 'root-ca.pem'), clientCert: join(dir, 'client.pem'), clientKey: join(dir, 'client-key.pem'), user, password };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
