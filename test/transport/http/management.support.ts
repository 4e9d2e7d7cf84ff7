import Database from 'better-sqlite3';
import { join } from 'node:path';
import { call, login } from '../../support/client.js';
import { addUser, AGENT_KEY, startTestServer, type TestServer } from '../../support/server.js';

/** A running server with an operator, an auditor and agents, for the management suites. */
export interface World {
  server: TestServer;
  operator: string;
  auditor: string;
  /** Agent tokens by uuid. */
  agents: Record<string, string>;
}

export async function startWorld(agents: Record<string, string[]> = {}, env: Record<string, string> = {}): Promise<World> {
  const server = await startTestServer(env);
  await addUser(server.dataDir, 'olga', 'operator', 'operator-password');
  await addUser(server.dataDir, 'audrey', 'auditor', 'auditor-password');
  const operator = await login(server.api, { username: 'olga', password: 'operator-password' });
  const auditor = await login(server.api, { username: 'audrey', password: 'auditor-password' });
  const tokens: Record<string, string> = {};
  for (const [uuid, groups] of Object.entries(agents)) {
    const r = await call('POST', `${server.api}/agents`, { token: operator, json: { uuid, key: AGENT_KEY, groups } });
    if (r.status !== 201) throw new Error(`registering ${uuid}: ${r.status} ${r.text}`);
    tokens[uuid] = await login(server.api, { uuid, key: AGENT_KEY });
  }
  return { server, operator, auditor, agents: tokens };
}

/** The journal's rows, read from the data folder (read-only). */
export function journalRows(server: TestServer): Array<{ seq: number; type: string; stream: string; actor: string; data: string }> {
  const db = new Database(join(server.dataDir, 'comms.db'), { readonly: true });
  try {
    return db.prepare('SELECT seq, type, stream, actor, data FROM journal ORDER BY seq').all() as never;
  } finally {
    db.close();
  }
}

export function headSeq(server: TestServer): number {
  const db = new Database(join(server.dataDir, 'comms.db'), { readonly: true });
  try {
    return (db.prepare('SELECT coalesce(max(seq), 0) AS s FROM journal').get() as { s: number }).s;
  } finally {
    db.close();
  }
}
