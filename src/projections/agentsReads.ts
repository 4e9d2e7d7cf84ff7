import { preparedOnce, type Db } from '../journal/database.js';

export interface AgentRow {
  uuid: string;
  name: string;
  key_hash: string;
  groups: string;
  registered_at: number;
  last_seen: number | null;
  last_event_seq: number | null;
  type?: string | null;
  version?: string | null;
  /** JSON text of the reported host object. */
  host?: string | null;
}

function prepare(db: Db) {
  return {
    find: db.prepare<[string], AgentRow>('SELECT * FROM agents WHERE uuid = ?'),
    revokedAt: db.prepare<[string], { revoked_at: number }>('SELECT revoked_at FROM revoked_agents WHERE uuid = ?'),
    standing: db.prepare<[string, string], { known: number | null; revoked_at: number | null }>(
      `SELECT (SELECT 1 FROM agents WHERE uuid = ?) AS known,
              (SELECT revoked_at FROM revoked_agents WHERE uuid = ?) AS revoked_at`,
    ),
  };
}
const stmts = preparedOnce(prepare);

export function findAgent(db: Db, uuid: string): AgentRow | undefined {
  return stmts(db).find.get(uuid);
}

/** When the agent's tokens were revoked (it was deleted), in ms, or undefined. */
export function agentRevokedAt(db: Db, uuid: string): number | undefined {
  return stmts(db).revokedAt.get(uuid)?.revoked_at;
}

/** Whether the agent is registered here and when its tokens were revoked: one query per request. */
export function agentStanding(db: Db, uuid: string): { known: boolean; revokedAt: number | undefined } {
  const row = stmts(db).standing.get(uuid, uuid);
  return { known: row?.known === 1, revokedAt: row?.revoked_at ?? undefined };
}

export type AgentStatus = 'never_connected' | 'active' | 'disconnected';

/** An agent as operators see it: never its key hash. */
export interface AgentView {
  uuid: string;
  name: string;
  groups: string[];
  status: AgentStatus;
  connected: boolean;
  last_seen: string | null;
  last_event_seq: number | null;
  registered_at: string;
  type: string | null;
  version: string | null;
  host: HostView | null;
}

/** The host facts as operators see them: every member present (null or [] when not reported). */
export interface HostView {
  hostname: string | null;
  architecture: string | null;
  ip: string[];
  os: { name: string | null; version: string | null; type: string | null; platform?: string };
}

function hostView(text: string | null): HostView | null {
  if (text === null) return null;
  const h = JSON.parse(text) as { hostname?: string; architecture?: string; ip?: string[]; os?: { name?: string; version?: string; type?: string; platform?: string } };
  const os = h.os ?? {};
  return {
    hostname: h.hostname ?? null,
    architecture: h.architecture ?? null,
    ip: h.ip ?? [],
    os: { name: os.name ?? null, version: os.version ?? null, type: os.type ?? null, ...(os.platform !== undefined ? { platform: os.platform } : {}) },
  };
}

/** Seen within this window (or holding a stream open) = active. */
export const ACTIVE_WINDOW_MS = 5 * 60_000;

export function statusOf(row: Pick<AgentRow, 'last_seen'>, live: { connected: boolean; seenAt: number | undefined }, now: number): AgentStatus {
  const lastSeen = Math.max(row.last_seen ?? 0, live.seenAt ?? 0) || null;
  if (live.connected || (lastSeen !== null && now - lastSeen <= ACTIVE_WINDOW_MS)) return 'active';
  return lastSeen === null ? 'never_connected' : 'disconnected';
}

/** Pure: the view of a row, given whether a stream is open, when this node last heard from it, and now. */
export function agentView(row: AgentRow, live: { connected: boolean; seenAt: number | undefined }, now: number): AgentView {
  const lastSeen = Math.max(row.last_seen ?? 0, live.seenAt ?? 0) || null;
  const status = statusOf(row, live, now);
  return {
    uuid: row.uuid,
    name: row.name,
    groups: JSON.parse(row.groups) as string[],
    status,
    connected: live.connected,
    last_seen: lastSeen === null ? null : new Date(lastSeen).toISOString(),
    last_event_seq: row.last_event_seq,
    registered_at: new Date(row.registered_at).toISOString(),
    type: row.type ?? null,
    version: row.version ?? null,
    host: hostView(row.host ?? null),
  };
}

/** How many agents are in each status now (as `agentView` decides it), for the metrics. */
export function agentStatusCounts(
  db: Db,
  live: { connected(uuid: string): boolean; seenAt(uuid: string): number | undefined },
  now: number,
): Record<AgentStatus, number> {
  const counts: Record<AgentStatus, number> = { active: 0, disconnected: 0, never_connected: 0 };
  for (const row of db.prepare<[], { uuid: string; last_seen: number | null }>('SELECT uuid, last_seen FROM agents').iterate()) {
    const lastSeen = Math.max(row.last_seen ?? 0, live.seenAt(row.uuid) ?? 0) || null;
    const active = live.connected(row.uuid) || (lastSeen !== null && now - lastSeen <= ACTIVE_WINDOW_MS);
    counts[active ? 'active' : lastSeen === null ? 'never_connected' : 'disconnected'] += 1;
  }
  return counts;
}
