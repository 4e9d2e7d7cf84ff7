import { z } from 'zod';
import type { Entry } from '../journal/entries.js';
import { DuplicateError } from '../journal/errors.js';
import type { GroupCommit } from '../journal/groupCommit.js';
import { AgentId, GroupName } from '../journal/ids.js';
import { findAgent } from '../projections/agentsReads.js';
import type { Db } from '../journal/database.js';
import type { AgentFacts } from './reportAgentFacts.js';

export const RegisterAgent = z.object({
  uuid: AgentId,
  key: z.string().regex(/^[A-Za-z0-9]{32}$/, 'must be 32 letters and digits'),
  name: z.string().min(1).max(256).optional(),
  groups: z.array(GroupName).max(128).optional(),
});
export type RegisterAgent = z.infer<typeof RegisterAgent>;
/** Registration with the host facts an enrolling agent reports (POST /agents outside /api/v1). */
export type RegisterAgentWithFacts = RegisterAgent & { facts?: AgentFacts };

export interface RegisteredAgent {
  uuid: string;
  name: string;
  groups: string[];
  registered_at: string;
}

/** Pure decision: an agent uuid is registered once (until it is deleted). */
export function decideRegisterAgent(exists: boolean, cmd: RegisterAgentWithFacts, keyHash: string, actor: string): Entry[] {
  if (exists) throw new DuplicateError(`agent ${cmd.uuid} is already registered`);
  const groups = [...new Set(cmd.groups ?? [])];
  return [
    {
      type: 'AgentRegistered',
      stream: cmd.uuid,
      actor,
      data: { uuid: cmd.uuid, name: cmd.name ?? cmd.uuid, groups, keyHash, ...(cmd.facts ?? {}) },
    },
  ];
}

/** `hashKey` is the agent-key hasher's (`src/security/agentKeys.ts`): a keyed hash, not a slow one. */
export function registerAgent(deps: { db: Db; commit: GroupCommit; hashKey: (key: string) => string }) {
  return async (cmd: RegisterAgentWithFacts, actor: string): Promise<RegisteredAgent> => {
    const keyHash = deps.hashKey(cmd.key);
    return deps.commit.run((tx) => {
      const [entry] = decideRegisterAgent(Boolean(findAgent(deps.db, cmd.uuid)), cmd, keyHash, actor).map(tx.append);
      const e = entry as Extract<typeof entry, { type: 'AgentRegistered' }>;
      return { uuid: e.data.uuid, name: e.data.name, groups: e.data.groups, registered_at: new Date(e.time).toISOString() };
    });
  };
}
