import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generate } from 'selfsigned';

export interface TlsPair {
  cert: string;
  key: string;
}

/** The configured PEM pair, or a self-signed one generated into the data folder on first start. */
export async function loadTls(dataDir: string, certPath?: string, keyPath?: string): Promise<TlsPair> {
  if (certPath && keyPath) return { cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8') };
  const dir = join(dataDir, 'tls');
  const cert = join(dir, 'server.crt');
  const key = join(dir, 'server.key');
  if (!existsSync(cert) || !existsSync(key)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const pems = await generate([{ name: 'commonName', value: 'comms-api' }], {
      // ECDSA P-256: a handshake signs with it, ~20× cheaper than RSA-2048 (reconnect storms)
      keyType: 'ec',
      curve: 'P-256',
      algorithm: 'sha256',
      notAfterDate: new Date(Date.now() + 825 * 24 * 3600 * 1000),
      extensions: [
        { name: 'basicConstraints', cA: false },
        { name: 'extKeyUsage', serverAuth: true },
        {
          name: 'subjectAltName',
          altNames: [
            { type: 2, value: 'localhost' },
            { type: 7, ip: '127.0.0.1' },
          ],
        },
      ],
    } as Parameters<typeof generate>[1]);
    writeFileSync(`${key}.tmp`, pems.private, { mode: 0o600 });
    renameSync(`${key}.tmp`, key);
    writeFileSync(`${cert}.tmp`, pems.cert);
    renameSync(`${cert}.tmp`, cert);
  }
  return { cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8') };
}
