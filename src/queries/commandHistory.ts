import type { Statement } from 'better-sqlite3';
import { z } from 'zod';
import { preparedOnce, type Db } from '../journal/database.js';

const isoTime = z.iso.datetime({ offset: true }).transform((s) => Date.parse(s));

/** Query parameters of `GET /commands/history`. */
export const HistoryQuery = z.object({
  agent: z.string().min(1).max(64).optional(),
  /** The actor: a user name (`alice` matches `user:alice`) or an actor string (`admin-socket`, `agent:<uuid>`). */
  user: z.string().min(1).max(128).optional(),
  action: z.string().min(1).max(64).optional(),
  command: z.string().min(1).max(64).optional(),
  status: z.enum(['pending', 'delivered', 'success', 'failure', 'expired', 'cancelled']).optional(),
  since: isoTime.optional(),
  until: isoTime.optional(),
  /** `next_cursor` of the previous page: `<row>` or `<row>~<agent>` (inside a command's issue, expanded per agent). */
  cursor: z
    .string()
    .regex(/^\d{1,15}(~[A-Za-z0-9][A-Za-z0-9._:-]{0,63})?$/, 'a cursor from next_cursor')
    .transform((c) => {
      const [id, agent] = c.split('~');
      return { id: Number(id), agent };
    })
    .optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  /** `ndjson`: every matching item, one a line (an export), instead of one page */
  format: z.enum(['json', 'ndjson']).default('json'),
}).strict();
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
  /** The outcome's code and message, on result items that carried them. */
  code?: number;
  message?: string;
}

/** A `command_events` row: a history item with its row id and the time in ms. */
interface EventRow extends Omit<HistoryItem, 'time' | 'code' | 'message'> {
  id: number;
  time: number;
  code: number | null;
  message: string | null;
}

type Filter = Exclude<keyof HistoryQuery, 'limit' | 'cursor' | 'format'>;
const CLAUSES: Record<Filter, string> = {
  agent: 'agent = @agent',
  user: '(actor = @user OR actor = @userActor)',
  action: 'action = @action',
  command: 'command = @command',
  status: 'state = @status',
  since: 'time >= @since',
  until: 'time <= @until',
};
/** The same filters on an issue row (`fanout = 1`): its agents are its `command_targets` rows of the same seq. */
const FANOUT_CLAUSES: Record<Filter, string> = {
  ...CLAUSES,
  agent: 'EXISTS (SELECT 1 FROM command_targets t WHERE t.command = command_events.command AND t.agent = @agent AND t.seq = command_events.seq)',
};
const FILTERS = Object.keys(CLAUSES) as Filter[];
const COLUMNS = 'id, seq, time, command, agent, action, type, state, actor, code, message';

interface Statements {
  rows: Statement;
  fanouts: Statement;
}
const byFilters = preparedOnce(() => new Map<string, Statements>());
const targets = preparedOnce((db: Db): Statement =>
  db.prepare(
    `SELECT agent FROM command_targets WHERE command = @command AND seq = @seq AND agent > @after
     AND (@agent IS NULL OR agent = @agent) ORDER BY agent LIMIT @limit`,
  ),
);

/** Per combination of filters (prepared on first use): per-agent rows, and issue rows to expand. */
function statementsFor(db: Db, used: Filter[]): Statements {
  const byKey = byFilters(db);
  const key = used.join(',');
  let stmts = byKey.get(key);
  if (!stmts) {
    const where = (clauses: Record<Filter, string>, fanout: 0 | 1, cursor: string) =>
      ['fanout = ' + fanout, cursor, ...used.map((f) => clauses[f])].join(' AND ');
    stmts = {
      rows: db.prepare(`SELECT ${COLUMNS} FROM command_events WHERE ${where(CLAUSES, 0, 'id > @after')} ORDER BY id LIMIT @limit`),
      fanouts: db.prepare(`SELECT ${COLUMNS} FROM command_events WHERE ${where(FANOUT_CLAUSES, 1, 'id >= @from')} ORDER BY id LIMIT @limit`),
    };
    byKey.set(key, stmts);
  }
  return stmts;
}

/** The agents of one issue row after `after` (in agent order), optionally only `agent`. */
function fanoutAgents(db: Db, r: EventRow, after: string, agent: string | undefined, limit: number): string[] {
  const rows = targets(db).all({ command: r.command, seq: r.seq, after, agent: agent ?? null, limit }) as Array<{ agent: string }>;
  return rows.map((t) => t.agent);
}

interface Item {
  row: EventRow;
  agent: string | null;
  /** Set on the items of an issue row: the cursor continues after this agent. */
  fanout: boolean;
}

/** Merges per-agent rows and expanded issue rows in (id, agent) order: at most `want` items. */
function merge(db: Db, q: HistoryQuery, rows: EventRow[], fanouts: EventRow[], want: number): Item[] {
  const items: Item[] = [];
  let i = 0;
  let j = 0;
  while (items.length < want && (i < rows.length || j < fanouts.length)) {
    if (j >= fanouts.length || (i < rows.length && rows[i]!.id < fanouts[j]!.id)) {
      const r = rows[i++]!;
      items.push({ row: r, agent: r.agent, fanout: false });
      continue;
    }
    const f = fanouts[j++]!;
    const after = q.cursor !== undefined && q.cursor.id === f.id ? (q.cursor.agent ?? '') : '';
    for (const agent of fanoutAgents(db, f, after, q.agent, want - items.length)) items.push({ row: f, agent, fanout: true });
  }
  return items;
}

/** Every per-agent state change of commands, in journal order, filtered, one page at a time. */
export function commandHistory(db: Db, q: HistoryQuery): { items: HistoryItem[]; next_cursor: string | null } {
  const used = FILTERS.filter((f) => q[f] !== undefined);
  const want = q.limit + 1;
  const params: Record<string, unknown> = { limit: want };
  for (const f of used) params[f] = q[f];
  if (q.user !== undefined) params.userActor = `user:${q.user}`;
  const stmts = statementsFor(db, used);
  const rows = stmts.rows.all({ ...params, after: q.cursor?.id ?? 0 }) as EventRow[];
  // an issue row without `~agent` in the cursor was finished on the previous page
  const from = q.cursor === undefined ? 0 : q.cursor.agent === undefined ? q.cursor.id + 1 : q.cursor.id;
  const fanouts = stmts.fanouts.all({ ...params, from }) as EventRow[];
  const items = merge(db, q, rows, fanouts, want);
  const more = items.length > q.limit;
  const page = more ? items.slice(0, q.limit) : items;
  const last = page[page.length - 1];
  return {
    items: page.map(({ row: r, agent }) => ({
      seq: r.seq,
      time: new Date(r.time).toISOString(),
      command: r.command,
      agent,
      action: r.action,
      type: r.type,
      state: r.state,
      actor: r.actor,
      ...(r.code !== null ? { code: r.code } : {}),
      ...(r.message !== null ? { message: r.message } : {}),
    })),
    next_cursor: more && last ? (last.fanout ? `${last.row.id}~${last.agent}` : String(last.row.id)) : null,
  };
}
