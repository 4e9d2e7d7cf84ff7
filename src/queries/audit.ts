import type { Statement } from 'better-sqlite3';
import { z } from 'zod';
import type { Db } from '../journal/database.js';
import { AUDIT_KINDS } from '../projections/auditProjection.js';

const isoTime = z.iso.datetime({ offset: true }).transform((s) => Date.parse(s));

/** Query parameters of `GET /audit` (unknown ones are 400). */
export const AuditQuery = z
  .object({
    kind: z.enum(AUDIT_KINDS).optional(),
    /** a user name (`alice` matches `user:alice`) or an actor as written (`admin-socket`, `api-key:<id>`, `cli`) */
    actor: z.string().min(1).max(128).optional(),
    subject: z.string().min(1).max(128).optional(),
    since: isoTime.optional(),
    until: isoTime.optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    /** `next_cursor` of the previous page */
    cursor: z.string().regex(/^\d{1,15}$/, 'a cursor from next_cursor').transform(Number).optional(),
    format: z.enum(['json', 'ndjson']).default('json'),
  })
  .strict();
export type AuditQuery = z.infer<typeof AuditQuery>;

export interface AuditItem {
  seq: number;
  time: string;
  kind: string;
  type: string;
  subject: string;
  actor: string;
  details: Record<string, unknown>;
}

type Filter = 'kind' | 'actor' | 'subject' | 'since' | 'until';
const CLAUSES: Record<Filter, string> = {
  kind: 'kind = @kind',
  actor: '(actor = @actor OR actor = @userActor)',
  subject: 'subject = @subject',
  since: 'time >= @since',
  until: 'time <= @until',
};
const cache = new WeakMap<Db, Map<string, Statement>>();

/** Configuration, package, catalogue, user, API key, agent and journal changes, in journal order. */
export function auditTrail(db: Db, q: Omit<AuditQuery, 'format'>): { items: AuditItem[]; next_cursor: string | null } {
  const used = (Object.keys(CLAUSES) as Filter[]).filter((f) => q[f] !== undefined);
  let byKey = cache.get(db);
  if (!byKey) cache.set(db, (byKey = new Map()));
  let stmt = byKey.get(used.join(','));
  if (!stmt) {
    const where = ['seq > @after', ...used.map((f) => CLAUSES[f])].join(' AND ');
    stmt = db.prepare(`SELECT * FROM audit_events WHERE ${where} ORDER BY seq LIMIT @limit`);
    byKey.set(used.join(','), stmt);
  }
  const params: Record<string, unknown> = { after: q.cursor ?? 0, limit: q.limit + 1 };
  for (const f of used) params[f] = q[f];
  if (q.actor !== undefined) params.userActor = `user:${q.actor}`;
  const rows = stmt.all(params) as Array<Omit<AuditItem, 'time' | 'details'> & { time: number; details: string }>;
  const page = rows.slice(0, q.limit);
  return {
    items: page.map((r) => ({ ...r, time: new Date(r.time).toISOString(), details: JSON.parse(r.details) as Record<string, unknown> })),
    next_cursor: rows.length > q.limit ? String(page[page.length - 1]!.seq) : null,
  };
}
