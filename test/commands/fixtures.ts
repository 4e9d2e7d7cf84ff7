import { call, login, type Reply } from '../support/client.js';
import { addUser, AGENT_KEY, startTestServer, type TestServer } from '../support/server.js';
import { openJournal, type Journal } from '../../src/journal/journal.js';
import { hashSecret } from '../../src/security/secrets.js';
import { createTokenIssuer, loadSigningKeys } from '../../src/security/tokens.js';

export const PASSWORD = 'correct horse battery';

/**
 * A running server (in this process) with an operator `olivia`, an auditor `audrey`, and
 * helpers to register many agents quickly: AgentRegistered entries appended through the
 * journal (one scrypt hash shared by all), tokens signed with the server's own key.
 */
export interface CommandsWorld {
  server: TestServer;
  api: string;
  operator: string;
  auditor: string;
  journal: Journal;
  /** Registers agents `${prefix}-0..n-1` in `groups`; returns their uuids. */
  addAgents(prefix: string, n: number, groups?: string[]): Promise<string[]>;
  /** A token for the agent, as POST /login would issue it. */
  agentToken(uuid: string): string;
  issue(body: unknown, token?: string): Promise<Reply>;
  /** Uploads a small package (an `upgrade` must name a stored one). */
  uploadPackage(name: string): Promise<void>;
  stop(): Promise<void>;
}

export async function commandsWorld(env: Record<string, string> = {}): Promise<CommandsWorld> {
  const server = await startTestServer(env);
  await addUser(server.dataDir, 'olivia', 'operator', PASSWORD);
  await addUser(server.dataDir, 'audrey', 'auditor', PASSWORD);
  const [operator, auditor] = await Promise.all([
    login(server.api, { username: 'olivia', password: PASSWORD }),
    login(server.api, { username: 'audrey', password: PASSWORD }),
  ]);
  const journal = openJournal({ dataDir: server.dataDir, quotaBytes: 1 << 30 });
  const keyHash = await hashSecret(AGENT_KEY);
  const issuer = createTokenIssuer(loadSigningKeys(server.dataDir), 900);
  return {
    server,
    api: server.api,
    operator,
    auditor,
    journal,
    async addAgents(prefix, n, groups = []) {
      const uuids = Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
      await journal.commit.run((tx) => {
        for (const uuid of uuids) {
          tx.append({ type: 'AgentRegistered', stream: uuid, actor: 'test', data: { uuid, name: uuid, groups, keyHash } });
        }
      });
      return uuids;
    },
    agentToken: (uuid) => issuer(uuid, 'agent').token,
    issue: (body, token = operator) => call('POST', `${server.api}/commands`, { token, json: body }),
    async uploadPackage(name) {
      const r = await call('PUT', `${server.api}/packages/${name}`, { token: operator, body: Buffer.from('package'), type: 'application/octet-stream' });
      if (r.status >= 300) throw new Error(`uploading ${name}: ${r.status} ${r.text}`);
    },
    async stop() {
      await journal.close();
      await server.stop();
    },
  };
}

/** Journal rows of the given types, in order (what the server actually wrote). */
export function journalRows(journal: Journal, types: string[]): Array<{ seq: number; type: string; actor: string; data: any }> {
  const rows = journal.db
    .prepare(`SELECT seq, type, actor, data FROM journal WHERE type IN (${types.map(() => '?').join(',')}) ORDER BY seq`)
    .all(...types) as Array<{ seq: number; type: string; actor: string; data: string }>;
  return rows.map((r) => ({ ...r, data: JSON.parse(r.data) }));
}
