import type { Db } from '../journal/database.js';

export interface UserRow {
  name: string;
  role: 'operator' | 'auditor';
  password_hash: string;
  disabled: 0 | 1;
  created_at: number;
  changed_at: number | null;
}

export interface ApiKeyRow {
  id: string;
  name: string;
  role: 'operator' | 'auditor' | 'metrics';
  key_hash: string;
  created_at: number;
  created_by: string;
  revoked_at: number | null;
}

const statements = new WeakMap<Db, ReturnType<typeof prepare>>();
function prepare(db: Db) {
  return {
    find: db.prepare<[string], UserRow>('SELECT * FROM users WHERE name = ?'),
    list: db.prepare<[string, number], UserRow>('SELECT * FROM users WHERE name > ? ORDER BY name LIMIT ?'),
    revokedAt: db.prepare<[string], number>('SELECT revoked_at FROM revoked_users WHERE name = ?').pluck(),
    key: db.prepare<[string], ApiKeyRow>('SELECT * FROM api_keys WHERE id = ?'),
    keys: db.prepare<[string, number], ApiKeyRow>('SELECT * FROM api_keys WHERE id > ? ORDER BY id LIMIT ?'),
  };
}
function stmts(db: Db) {
  let s = statements.get(db);
  if (!s) statements.set(db, (s = prepare(db)));
  return s;
}

export function findUser(db: Db, name: string): UserRow | undefined {
  return stmts(db).find.get(name);
}

/** Up to `limit` users after `after`, by name. */
export function usersPage(db: Db, after: string, limit: number): UserRow[] {
  return stmts(db).list.all(after, limit);
}

/** When the user's earlier tokens stopped counting (its last disable or deletion), in ms. */
export function userRevokedAt(db: Db, name: string): number | undefined {
  return stmts(db).revokedAt.get(name) ?? undefined;
}

export function findApiKey(db: Db, id: string): ApiKeyRow | undefined {
  return stmts(db).key.get(id);
}

export function apiKeysPage(db: Db, after: string, limit: number): ApiKeyRow[] {
  return stmts(db).keys.all(after, limit);
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** A user as operators see it: never its password hash. */
export const userView = (u: UserRow) => ({
  name: u.name,
  role: u.role,
  disabled: u.disabled === 1,
  created_at: new Date(u.created_at).toISOString(),
  changed_at: iso(u.changed_at),
});

/** An API key as listed: never the key or its hash. */
export const apiKeyView = (k: ApiKeyRow) => ({
  id: k.id,
  name: k.name,
  role: k.role,
  created_at: new Date(k.created_at).toISOString(),
  created_by: k.created_by,
  revoked: k.revoked_at !== null,
  revoked_at: iso(k.revoked_at),
});
