import type { Statement } from 'better-sqlite3';
import { z } from 'zod';
import type { Db } from '../journal/database.js';

const isoTime = z.iso.datetime({ offset: true }).transform((s) => Date.parse(s));

/** Query parameters of `GET /commands/history`. */
export const HistoryQuery = z.object({
  agent: z.string().min(1).max(64).optional(),
  /** The actor: a user name (`alice` matches `user:alice`) or an actor string (`admin-socket`, `agent:<uuid>`). */
  user: z.string().min(1).max(128).optional(),
  action: z.string().min(1).max(64).optional(),
  command: z.string().min(1).max(64).optional(),
  status: z.enum(['pending', 'delivered', 'success', 'failure', 'expired']).optional(),
  since: isoTime.optional(),
  until: isoTime.optional(),
  cursor: z.string().regex(/^\d{1,15}$/, 'a cursor from next_cursor').transform(Number).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
export type HistoryQuery = z.infer<typeof HistoryQuery>;

export interface HistoryItem {
  seq: number;
  time: string;
  command: string;
  agent: string | null;
  action: string;
  type: string;
  state: string;
  actor: string;
}

interface EventRow {
  id: number;
  seq: number;
  time: number;
  command: string;
  agent: string | null;
  action: string;
  type: string;
  state: string;
  actor: string;
}

type Filter = Exclude<keyof HistoryQuery, 'limit'>;
const CLAUSES: Record<Filter, string> = {
  agent: 'agent = @agent',
  user: '(actor = @user OR actor = @userActor)',
  action: 'action = @action',
  command: 'command = @command',
  status: 'state = @status',
  since: 'time >= @since',
  until: 'time <= @until',
  cursor: 'id > @cursor',
};
const FILTERS = Object.keys(CLAUSES) as Filter[];

const cache = new WeakMap<Db, Map<string, Statement>>();

/** One prepared statement per combination of filters, prepared on first use. */
function statementFor(db: Db, used: Filter[]): Statement {
  let byKey = cache.get(db);
  if (!byKey) cache.set(db, (byKey = new Map()));
  const key = used.join(',');
  let stmt = byKey.get(key);
  if (!stmt) {
    const where = used.length ? `WHERE ${used.map((f) => CLAUSES[f]).join(' AND ')}` : '';
    stmt = db.prepare(`SELECT id, seq, time, command, agent, action, type, state, actor FROM command_events ${where} ORDER BY id LIMIT @limit`);
    byKey.set(key, stmt);
  }
  return stmt;
}

/** Every per-agent state change of commands, in journal order, filtered, one page at a time. */
export function commandHistory(db: Db, q: HistoryQuery): { items: HistoryItem[]; next_cursor: string | null } {
  const used = FILTERS.filter((f) => q[f] !== undefined);
  const params: Record<string, unknown> = { limit: q.limit + 1 };
  for (const f of used) params[f] = q[f];
  if (q.user !== undefined) params.userActor = `user:${q.user}`;
  const rows = statementFor(db, used).all(params) as EventRow[];
  const more = rows.length > q.limit;
  const page = more ? rows.slice(0, q.limit) : rows;
  return {
    items: page.map((r) => ({
      seq: r.seq,
      time: new Date(r.time).toISOString(),
      command: r.command,
      agent: r.agent,
      action: r.action,
      type: r.type,
      state: r.state,
      actor: r.actor,
    })),
    next_cursor: more ? String(page[page.length - 1]!.id) : null,
  };
}
