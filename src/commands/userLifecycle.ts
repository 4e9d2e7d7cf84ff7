import { z } from 'zod';
import type { Db } from '../journal/database.js';
import type { Entry } from '../journal/entries.js';
import type { GroupCommit } from '../journal/groupCommit.js';
import { UserName } from '../journal/ids.js';
import { findUser, type UserRow } from '../queries/users.js';

export class UnknownUserError extends Error {}

export const UserChange = z.enum(['disable', 'enable', 'delete']);
export type UserChange = z.infer<typeof UserChange>;

/**
 * Pure decision: only an existing user can be disabled, enabled or deleted. Disabling a disabled
 * user (or enabling an enabled one) journals nothing. Disabling and deleting refuse the user's
 * tokens at once (the projection keeps the time).
 */
export function decideUserChange(user: Pick<UserRow, 'disabled'> | undefined, name: UserName, change: UserChange, actor: string): Entry[] {
  if (!user) throw new UnknownUserError(`no user ${name}`);
  const stream = `user:${name}`;
  switch (change) {
    case 'disable':
      return user.disabled === 1 ? [] : [{ type: 'UserDisabled', stream, actor, data: { name } }];
    case 'enable':
      return user.disabled === 0 ? [] : [{ type: 'UserEnabled', stream, actor, data: { name } }];
    case 'delete':
      return [{ type: 'UserDeleted', stream, actor, data: { name } }];
    default: {
      const _exhaustive: never = change;
      return _exhaustive;
    }
  }
}

export function userLifecycle(deps: { db: Db; commit: GroupCommit }) {
  return (name: UserName, change: UserChange, actor: string): Promise<number> =>
    deps.commit.run((tx) => {
      const entries = decideUserChange(findUser(deps.db, name), name, change, actor);
      entries.forEach(tx.append);
      return entries.length;
    });
}
