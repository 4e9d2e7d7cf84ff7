import type { Db } from '../journal/database.js';

export interface UserRow {
  name: string;
  role: 'operator' | 'auditor';
  password_hash: string;
}

const statements = new WeakMap<Db, { find: ReturnType<Db['prepare']> }>();

export function findUser(db: Db, name: string): UserRow | undefined {
  let s = statements.get(db);
  if (!s) statements.set(db, (s = { find: db.prepare('SELECT name, role, password_hash FROM users WHERE name = ?') }));
  return s.find.get(name) as UserRow | undefined;
}
