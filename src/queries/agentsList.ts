import type { Statement } from 'better-sqlite3';
import { z } from 'zod';
import type { Db } from '../journal/database.js';
import { GroupName } from '../journal/ids.js';
import { statusOf, type AgentRow, type AgentStatus } from './agents.js';

const SORTS = ['uuid', 'name', 'registered_at', 'last_seen'] as const;
const Sort = z.enum([...SORTS, ...SORTS.map((s) => `-${s}` as const)]);

/** `GET /agents` query: filters, sort, and the one pagination shape (unknown parameters are 400). */
export const ListAgentsQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    cursor: z.string().max(600).regex(/^[A-Za-z0-9_-]*$/, 'not a cursor from this API (pass next_cursor as it was)').optional(),
    status: z.enum(['active', 'disconnected', 'never_connected']).optional(),
    group: GroupName.optional(),
    /** the host's os name or platform, case-insensitive (`ubuntu`, `linux`, `windows`) */
    os: z.string().min(1).max(64).optional(),
    /** the agent's version, as it reports it */
    version: z.string().min(1).max(64).optional(),
    /** a prefix of the name or the uuid */
    q: z.string().min(1).max(64).optional(),
    sort: Sort.default('uuid'),
  })
  .strict();
export type ListAgentsQuery = z.infer<typeof ListAgentsQuery>;

/** The agent's live state on this node (stream open, last authenticated request). */
export type Liveness = (uuid: string) => { connected: boolean; seenAt: number | undefined };


type SqlFilter = 'group' | 'os' | 'version' | 'q';
const CLAUSES: Record<SqlFilter, string> = {
  group: 'EXISTS (SELECT 1 FROM agent_groups g WHERE g.agent = a.uuid AND g.grp = @group)',
  os: "(lower(json_extract(a.host, '$.os.name')) = lower(@os) OR lower(json_extract(a.host, '$.os.platform')) = lower(@os))",
  version: 'a.version = @version',
  q: "(a.name LIKE @q ESCAPE '\\' OR a.uuid LIKE @q ESCAPE '\\')",
};
const SORT_KEYS: Record<(typeof SORTS)[number], string> = {
  uuid: 'a.uuid',
  name: 'a.name',
  registered_at: 'a.registered_at',
  last_seen: 'coalesce(a.last_seen, 0)',
};

const cache = new WeakMap<Db, Map<string, { page: Statement; all: Statement }>>();
function statements(db: Db, used: SqlFilter[], sort: ListAgentsQuery['sort']) {
  let byKey = cache.get(db);
  if (!byKey) cache.set(db, (byKey = new Map()));
  const key = `${used.join(',')}|${sort}`;
  let s = byKey.get(key);
  if (!s) {
    const desc = sort.startsWith('-');
    const col = SORT_KEYS[sort.replace('-', '') as (typeof SORTS)[number]];
    const cmp = desc ? '<' : '>';
    const where = used.map((f) => CLAUSES[f]);
    const after = `(@k IS NULL OR ${col} ${cmp} @k OR (${col} = @k AND a.uuid ${cmp} @u))`;
    const order = `${col} ${desc ? 'DESC' : 'ASC'}, a.uuid ${desc ? 'DESC' : 'ASC'}`;
    s = {
      page: db.prepare(`SELECT a.*, ${col} AS sort_key FROM agents a WHERE ${[after, ...where].join(' AND ')} ORDER BY ${order} LIMIT @limit`),
      all: db.prepare(`SELECT a.uuid, a.last_seen FROM agents a ${where.length ? `WHERE ${where.join(' AND ')}` : ''}`),
    };
    byKey.set(key, s);
  }
  return s;
}

const encode = (k: unknown, u: string) => Buffer.from(JSON.stringify([k, u]), 'utf8').toString('base64url');
function decode(cursor: string | undefined): { k: unknown; u: string } | { k: null; u: null } {
  if (!cursor) return { k: null, u: null };
  try {
    const [k, u] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as [unknown, unknown];
    if ((typeof k === 'string' || typeof k === 'number') && typeof u === 'string') return { k, u };
  } catch {
    // falls through
  }
  throw new z.ZodError([{ code: 'custom', path: ['cursor'], message: 'not a cursor from this API (pass next_cursor as it was)', input: cursor }]);
}

const likePrefix = (s: string) => `${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * A page of agents matching the filters, in `sort` order (ties by uuid), and the counts by status
 * of every agent matching the filters other than `status`. The status is computed (it depends on
 * this node's streams and on the time): the rows are read in chunks and filtered here.
 */
export function listAgents(db: Db, q: ListAgentsQuery, live: Liveness, now: number) {
  const used = (Object.keys(CLAUSES) as SqlFilter[]).filter((f) => q[f] !== undefined);
  const s = statements(db, used, q.sort);
  const params: Record<string, unknown> = {};
  for (const f of used) params[f] = f === 'q' ? likePrefix(q.q!) : q[f];
  let { k, u } = decode(q.cursor);
  const page: AgentRow[] = [];
  let more = false;
  for (;;) {
    const rows = s.page.all({ ...params, k, u, limit: 1000 }) as Array<AgentRow & { sort_key: string | number }>;
    for (const r of rows) {
      if (q.status !== undefined && statusOf(r, live(r.uuid), now) !== q.status) continue;
      if (page.length === q.limit) {
        more = true;
        break;
      }
      page.push(r);
    }
    if (more || rows.length < 1000) break;
    const last = rows[rows.length - 1]!;
    k = last.sort_key;
    u = last.uuid;
  }
  const counts: Record<AgentStatus, number> = { active: 0, disconnected: 0, never_connected: 0 };
  for (const r of s.all.all(params) as Array<Pick<AgentRow, 'uuid' | 'last_seen'>>) counts[statusOf(r, live(r.uuid), now)] += 1;
  const last = page[page.length - 1] as (AgentRow & { sort_key: string | number }) | undefined;
  return { rows: page, next_cursor: more && last ? encode(last.sort_key, last.uuid) : null, counts };
}
