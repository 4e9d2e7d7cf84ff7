import { z } from 'zod';
import type { Entry } from '../journal/entries.js';
import type { GroupCommit } from '../journal/groupCommit.js';
import { UserName } from '../journal/ids.js';
import { hashSecret } from '../security/secrets.js';

export const CreateUser = z.object({
  name: UserName,
  role: z.enum(['operator', 'auditor']),
  password: z.string().min(8, 'at least 8 characters').max(1024),
});
export type CreateUser = z.infer<typeof CreateUser>;

/** Pure decision: creating an existing user replaces its role and password. */
export function decideCreateUser(cmd: CreateUser, passwordHash: string, actor: string): Entry[] {
  return [{ type: 'UserCreated', stream: `user:${cmd.name}`, actor, data: { name: cmd.name, role: cmd.role, passwordHash } }];
}

export function createUser(deps: { commit: GroupCommit }) {
  return async (cmd: CreateUser, actor: string): Promise<{ name: string; role: string }> => {
    const hash = await hashSecret(cmd.password);
    await deps.commit.run((tx) => decideCreateUser(cmd, hash, actor).forEach(tx.append));
    return { name: cmd.name, role: cmd.role };
  };
}
