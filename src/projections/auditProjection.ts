import type { Db } from '../journal/database.js';
import type { StoredEntry } from '../journal/entries.js';
import type { Projection } from '../journal/groupCommit.js';
import { rowToEntry, type JournalRow } from '../journal/readEntries.js';

export const AUDIT_KINDS = ['configuration', 'package', 'catalog', 'user', 'api-key', 'agent', 'journal'] as const;
export type AuditKind = (typeof AUDIT_KINDS)[number];

const AUDITED = [
  'GroupConfigurationPut', 'PackageUploaded', 'CatalogEntryPut', 'UserCreated', 'UserDisabled', 'UserEnabled', 'UserDeleted',
  'ApiKeyCreated', 'ApiKeyRevoked', 'AgentRegistered', 'AgentDeleted', 'AgentGroupsChanged', 'JournalPruned', 'DeadLetterRetried', 'PackageDeleted', 'DeadLetterDiscarded',
];

/** What an entry means in the audit trail: its kind, subject and the details worth showing (never a hash). */
function auditRow(e: StoredEntry): { kind: AuditKind; subject: string; details: Record<string, unknown> } | undefined {
  switch (e.type) {
    case 'GroupConfigurationPut':
      return { kind: 'configuration', subject: e.data.group, details: { etag: e.data.etag } };
    case 'PackageUploaded':
      return { kind: 'package', subject: e.data.name, details: { size: e.data.size, sha256: e.data.sha256 } };
    case 'PackageDeleted':
      return { kind: 'package', subject: e.data.name, details: { sha256: e.data.sha256 } };
    case 'DeadLetterDiscarded':
      return { kind: 'journal', subject: `dead-letter:${e.data.id}`, details: { seq: e.data.seq, discarded: true } };
    case 'CatalogEntryPut':
      return { kind: 'catalog', subject: e.data.name, details: { target_types: e.data.targetTypes, default_timeout: e.data.defaultTimeout } };
    case 'UserCreated':
      return { kind: 'user', subject: e.data.name, details: { role: e.data.role } };
    case 'UserDisabled':
    case 'UserEnabled':
    case 'UserDeleted':
      return { kind: 'user', subject: e.data.name, details: {} };
    case 'ApiKeyCreated':
      return { kind: 'api-key', subject: e.data.id, details: { name: e.data.name, role: e.data.role } };
    case 'ApiKeyRevoked':
      return { kind: 'api-key', subject: e.data.id, details: {} };
    case 'AgentRegistered':
      return { kind: 'agent', subject: e.data.uuid, details: { name: e.data.name, groups: e.data.groups } };
    case 'AgentDeleted':
      return { kind: 'agent', subject: e.data.uuid, details: {} };
    case 'AgentGroupsChanged':
      return { kind: 'agent', subject: e.data.uuid, details: { groups: e.data.groups } };
    case 'JournalPruned':
      return { kind: 'journal', subject: 'journal', details: { through_seq: e.data.throughSeq, removed: e.data.removed } };
    case 'DeadLetterRetried':
      return { kind: 'journal', subject: `dead-letter:${e.data.id}`, details: { seq: e.data.seq } };
    default:
      return undefined;
  }
}

/**
 * Read model of the audit trail beside commands: configuration, package, catalogue, user, API
 * key, agent and journal changes, each with its actor and time. Kept when the journal is pruned.
 */
export function createAuditProjection(db: Db): Projection {
  const fresh = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit_events'").get() === undefined;
  db.exec(`CREATE TABLE IF NOT EXISTS audit_events (
    seq     INTEGER PRIMARY KEY,
    time    INTEGER NOT NULL,
    kind    TEXT    NOT NULL,
    type    TEXT    NOT NULL,
    subject TEXT    NOT NULL,
    actor   TEXT    NOT NULL,
    details TEXT    NOT NULL
  );
  CREATE INDEX IF NOT EXISTS audit_events_kind ON audit_events (kind, seq);
  CREATE INDEX IF NOT EXISTS audit_events_actor ON audit_events (actor, seq);`);
  const insert = db.prepare('INSERT OR IGNORE INTO audit_events (seq, time, kind, type, subject, actor, details) VALUES (?, ?, ?, ?, ?, ?, ?)');
  const project = (e: StoredEntry): void => {
    const row = auditRow(e);
    if (row) insert.run(e.seq, e.time, row.kind, e.type, row.subject, e.actor, JSON.stringify(row.details));
  };
  // A data folder older than this read model: its trail is rebuilt from the journal (what pruning left).
  if (fresh && db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'journal'").get() !== undefined) {
    const rows = db.prepare(`SELECT seq, type, stream, time, actor, data, NULL AS body FROM journal WHERE type IN (${AUDITED.map(() => '?').join(', ')}) ORDER BY seq`);
    db.transaction(() => {
      for (const r of rows.iterate(...AUDITED) as Iterable<JournalRow>) project(rowToEntry(r));
    })();
  }
  return {
    name: 'audit',
    project,
  };
}
