import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Tokens from `comms-api login`, one per server URL, in a 0600 file of a 0700 folder:
 * `$XDG_CONFIG_HOME/comms-api/credentials.json` (or `~/.config/comms-api/`). Only the token is
 * kept, never the password: the CLI renews it (POST /login/renew) when it nears expiry, and asks
 * for a new login once it has expired.
 */
export interface StoredToken {
  token: string;
  expires_at: string;
  username: string;
}

export function credentialsFile(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME !== '' ? env.XDG_CONFIG_HOME : join(homedir(), '.config');
  return join(base, 'comms-api', 'credentials.json');
}

function readAll(file: string): Record<string, StoredToken> {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Record<string, StoredToken>;
  } catch {
    return {};
  }
}

export function storedToken(server: string, file = credentialsFile()): StoredToken | undefined {
  return readAll(file)[server];
}

/** Stores (or with `undefined` forgets) the token for `server`, atomically, private to the user. */
export function storeToken(server: string, token: StoredToken | undefined, file = credentialsFile()): void {
  const all = readAll(file);
  if (token) all[server] = token;
  else delete all[server];
  mkdirSync(join(file, '..'), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(all, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

/** Renewed when less than this is left. */
export const RENEW_BEFORE_MS = 5 * 60_000;
