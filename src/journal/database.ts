import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { migrate } from './migrations.js';

export type Db = Database.Database;

/** Opens (and migrates) the data folder's database: WAL, synchronous=FULL, foreign keys. */
export function openDatabase(file: string): Db {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 10000');
  db.pragma('cache_size = -65536');
  migrate(db);
  return db;
}

/**
 * Statements prepared once per database, on first use: `const stmts = preparedOnce((db) => ({ find: db.prepare(…) }))`,
 * then `stmts(db).find.get(x)`. The one statement cache of the read side.
 */
export function preparedOnce<T>(prepare: (db: Db) => T): (db: Db) => T {
  const cache = new WeakMap<Db, T>();
  return (db) => {
    let s = cache.get(db);
    if (!s) cache.set(db, (s = prepare(db)));
    return s;
  };
}

/** A read function with its database bound: what a route is handed instead of the database. */
export type BoundToDb<F> = F extends (db: Db, ...args: infer A) => infer R ? (...args: A) => R : never;

/** Binds each `(db, …args)` read function to `db`, once, at a composition root. */
export function bindDb<T extends Record<string, (db: Db, ...args: never[]) => unknown>>(db: Db, fns: T): { [K in keyof T]: BoundToDb<T[K]> } {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(fns)) out[name] = (...args: never[]) => fn(db, ...args);
  return out as { [K in keyof T]: BoundToDb<T[K]> };
}
