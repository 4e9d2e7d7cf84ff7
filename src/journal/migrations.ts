import type Database from 'better-sqlite3';

/**
 * Versioned migrations of the journal's own tables (PRAGMA user_version). Read models
 * (src/projections) create their tables idempotently and can be rebuilt from the journal.
 */
const MIGRATIONS: string[] = [
  `CREATE TABLE journal (
     seq    INTEGER PRIMARY KEY AUTOINCREMENT,
     type   TEXT    NOT NULL,
     stream TEXT    NOT NULL,
     time   INTEGER NOT NULL,
     actor  TEXT    NOT NULL,
     data   TEXT    NOT NULL,
     body   BLOB,
     hash   BLOB    NOT NULL
   );
   CREATE INDEX journal_stream ON journal (stream, seq);
   CREATE INDEX journal_time ON journal (time);
   CREATE TABLE chain_anchor (
     id         INTEGER PRIMARY KEY CHECK (id = 1),
     after_seq  INTEGER NOT NULL,
     hash       BLOB    NOT NULL
   );
   CREATE TABLE checkpoints (
     name       TEXT PRIMARY KEY,
     seq        INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   );
   CREATE TABLE dead_letters (
     id         INTEGER PRIMARY KEY AUTOINCREMENT,
     sink       TEXT    NOT NULL,
     seq        INTEGER NOT NULL,
     item       TEXT,
     reason     TEXT    NOT NULL,
     created_at INTEGER NOT NULL,
     retried_at INTEGER,
     resolved   INTEGER NOT NULL DEFAULT 0
   );
   CREATE INDEX dead_letters_open ON dead_letters (sink, resolved, id);`,
];

export function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    }).immediate();
  }
}
