import { z } from 'zod';
import type { Db } from '../journal/database.js';
import type { Entry } from '../journal/entries.js';
import type { GroupCommit, Tx } from '../journal/groupCommit.js';
import { isObject } from '../ndjson.js';

/** What an agent says about its host (the existing Wazuh agent's `host` object), bounded. */
export const AgentHost = z.object({
  hostname: z.string().max(256).optional(),
  architecture: z.string().max(64).optional(),
  ip: z.array(z.string().max(64)).max(64).optional(),
  os: z
    .object({
      name: z.string().max(256).optional(),
      version: z.string().max(256).optional(),
      type: z.string().max(64).optional(),
      platform: z.string().max(64).optional(),
    })
    .optional(),
});
export type AgentHost = z.infer<typeof AgentHost>;

/** Host facts kept per agent: from its enrollment, then from the agent line of its event batches. */
export const AgentFacts = z.object({
  type: z.string().max(64).optional(),
  version: z.string().max(64).optional(),
  host: AgentHost.optional(),
});
export type AgentFacts = z.infer<typeof AgentFacts>;

/** The facts of an agent line `{"agent": {type, version, host, ...}}`; none when it carries none (or bad ones). */
export function factsFromAgentLine(line: unknown): AgentFacts | undefined {
  if (!isObject(line) || !isObject(line.agent)) return undefined;
  const { type, version, host } = line.agent;
  if (type === undefined && version === undefined && host === undefined) return undefined;
  const parsed = AgentFacts.safeParse({ type, version, host });
  return parsed.success ? parsed.data : undefined;
}

/** The stored facts, as the agents read model holds them (JSON text of `host`). */
export interface StoredFacts {
  type: string | null;
  version: string | null;
  host: string | null;
}

/** Pure decision: an `AgentFactsReported` entry when the reported facts differ from the stored ones. */
export function decideReportFacts(uuid: string, stored: StoredFacts | undefined, facts: AgentFacts | undefined): Entry[] {
  if (!stored || !facts) return [];
  const same =
    (facts.type ?? null) === stored.type &&
    (facts.version ?? null) === stored.version &&
    (facts.host === undefined ? null : JSON.stringify(facts.host)) === stored.host;
  if (same) return [];
  return [{ type: 'AgentFactsReported', stream: uuid, actor: `agent:${uuid}`, data: { uuid, ...facts } }];
}

/** Inside a batch's transaction: journals the agent line's facts when they changed (one indexed read). */
export function reportFactsIn(db: Db) {
  const find = db.prepare<[string], StoredFacts>('SELECT type, version, host FROM agents WHERE uuid = ?');
  return (tx: Tx, uuid: string, agentLine: unknown): void => {
    const facts = factsFromAgentLine(agentLine);
    if (!facts) return;
    for (const e of decideReportFacts(uuid, find.get(uuid), facts)) tx.append(e);
  };
}

/** `reportAgentFacts(deps)(uuid, facts)`: journals the facts when they changed (a repeated enrollment). */
export function reportAgentFacts(deps: { db: Db; commit: GroupCommit }) {
  const report = reportFactsIn(deps.db);
  return (uuid: string, facts: AgentFacts): Promise<void> =>
    deps.commit.run((tx) => report(tx, uuid, { agent: facts }));
}
