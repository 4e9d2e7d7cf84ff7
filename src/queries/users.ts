import { preparedOnce, type Db } from '../journal/database.js';

export interface UserRow {
  name: string;
  role: 'operator' | 'auditor';
  password_hash: string;
}

const stmts = preparedOnce((db: Db) => ({
  find: db.prepare<[string], UserRow>('SELECT name, role, password_hash FROM users WHERE name = ?'),
}));

export function findUser(db: Db, name: string): UserRow | undefined {
  return stmts(db).find.get(name);
}
