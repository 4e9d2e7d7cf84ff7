import type { ServerResponse } from 'node:http';
import { interval, Subject, type Observable, type Subscription } from 'rxjs';
import type { AgentCommandDto, PendingCommand } from '../../projections/commandsReads.js';
import { eventFrame, HEARTBEAT_FRAME, reauthFrame, type ReauthReason, retryFrame, SSE_HEADERS } from './sseFrames.js';

export interface Delivery {
  agent: string;
  id: string;
}

export interface HubOptions {
  /** Comment-line interval, shared by every stream (at most 15 s). */
  heartbeatMs?: number;
  retryBaseMs?: number;
  retryJitterMs?: number;
  /** A stream whose unsent bytes exceed this is closed (the agent reconnects and gets its backlog). */
  maxBufferedBytes?: number;
  /** How often the one shared timer ends the streams whose token has expired. */
  expirySweepMs?: number;
  now?: () => number;
}

const MAX_REMEMBERED = 10_000;

interface Connection {
  agent: string;
  res: ServerResponse;
  /**
   * Commands already written to this connection: each is sent at most once per connection.
   * Created with the first command (most streams idle for hours): an idle stream holds no Set.
   */
  sent: Set<string> | null;
  /** The second (epoch ms / 1000, rounded up) its token expires: the key of its expiry bucket. */
  expiresSec: number | null;
}

/**
 * The in-process SSE hub: agents' open streams, keyed by agent. Broadcasts are serialised
 * once and written to every target's streams; one shared timer writes the heartbeat.
 * Long-poll requests wait here too (`waitFor`), woken by the same broadcasts.
 */
export function createSseHub(opts: HubOptions = {}) {
  const heartbeatMs = Math.min(opts.heartbeatMs ?? 15_000, 15_000);
  const retryBase = opts.retryBaseMs ?? 3_000;
  const retryJitter = opts.retryJitterMs ?? 2_000;
  const maxBuffered = opts.maxBufferedBytes ?? 4 * 1024 * 1024;
  const sweepMs = opts.expirySweepMs ?? 1000;
  const now = opts.now ?? Date.now;
  /** An agent's open streams: nearly always one, so a small array rather than a Set. */
  const byAgent = new Map<string, Connection[]>();
  const waiters = new Map<string, Set<() => void>>();
  const deliveries = new Subject<Delivery>();
  let connections = 0;
  let closed = false;
  let heartbeat: Subscription | null = null;
  /**
   * Streams by the second their token expires. One shared timer walks the seconds elapsed since
   * its last run and ends those streams (`event: reauth`, then close): no timer per stream.
   */
  const expiring = new Map<number, Set<Connection>>();
  let sweptSec = Math.floor(now() / 1000);
  let sweeper: Subscription | null = null;

  function startTimers(): void {
    heartbeat ??= interval(heartbeatMs).subscribe(() => {
      for (const list of byAgent.values()) for (let i = list.length - 1; i >= 0; i--) write(list[i]!, HEARTBEAT_FRAME);
    });
    if (!sweeper) {
      sweptSec = Math.floor(now() / 1000);
      sweeper = interval(sweepMs).subscribe(() => sweepExpired());
    }
  }

  function stopTimers(): void {
    heartbeat?.unsubscribe();
    heartbeat = null;
    sweeper?.unsubscribe();
    sweeper = null;
  }

  function sweepExpired(): void {
    const nowSec = Math.floor(now() / 1000);
    if (expiring.size > 0) {
      for (let sec = sweptSec; sec <= nowSec; sec++) {
        const bucket = expiring.get(sec);
        if (!bucket) continue;
        expiring.delete(sec);
        for (const c of bucket) end(c, 'expired');
      }
    }
    sweptSec = nowSec;
  }

  /** The last frame says why, then the stream is closed. */
  function end(c: Connection, reason: ReauthReason): void {
    remove(c);
    if (c.res.writableEnded || c.res.destroyed) return;
    c.res.end(reauthFrame(reason));
  }

  function remove(c: Connection): void {
    const list = byAgent.get(c.agent);
    const at = list ? list.indexOf(c) : -1;
    if (!list || at < 0) return;
    list.splice(at, 1);
    connections -= 1;
    if (list.length === 0) byAgent.delete(c.agent);
    if (c.expiresSec !== null) {
      const bucket = expiring.get(c.expiresSec);
      bucket?.delete(c);
      if (bucket?.size === 0) expiring.delete(c.expiresSec);
    }
    if (connections === 0) stopTimers();
  }

  function write(c: Connection, frame: string): boolean {
    if (c.res.writableEnded || c.res.destroyed) return false;
    c.res.write(frame);
    if (c.res.writableLength > maxBuffered) {
      remove(c);
      c.res.destroy();
      return false;
    }
    return true;
  }

  function sendCommand(c: Connection, id: string, frame: string): boolean {
    if (c.sent?.has(id)) return false;
    if (!write(c, frame)) return false;
    c.sent ??= new Set();
    c.sent.add(id);
    // Only a backlog/live race can repeat an id, and it does so early: keep the memory bounded.
    if (c.sent.size > MAX_REMEMBERED) c.sent.delete(c.sent.values().next().value as string);
    return true;
  }

  function wake(agent: string): void {
    const w = waiters.get(agent);
    if (!w) return;
    waiters.delete(agent);
    for (const resolve of w) resolve();
  }

  return {
    /** First delivery of a command to an agent, from a stream (live or backlog). */
    deliveries$: deliveries.asObservable() as Observable<Delivery>,

    /**
     * Takes over `res` as the agent's stream: headers, a `retry:` hint, then the backlog
     * (the agent's unreported commands, read in the same tick), then live broadcasts, until the
     * token expires at `expiresAtMs` (then `event: reauth` with `{"reason":"expired"}` and close).
     */
    open(agent: string, res: ServerResponse, backlog: readonly PendingCommand[], expiresAtMs?: number): void {
      if (closed) {
        res.writeHead(503, { 'Retry-After': '5' }).end();
        return;
      }
      res.writeHead(200, SSE_HEADERS);
      res.flushHeaders();
      const expiresSec = expiresAtMs === undefined ? null : Math.ceil(expiresAtMs / 1000);
      const c: Connection = { agent, res, sent: null, expiresSec };
      const list = byAgent.get(agent);
      if (list) list.push(c);
      else byAgent.set(agent, [c]);
      connections += 1;
      startTimers();
      if (expiresSec !== null) {
        if (expiresSec <= sweptSec) sweptSec = expiresSec;
        let bucket = expiring.get(expiresSec);
        if (!bucket) expiring.set(expiresSec, (bucket = new Set()));
        bucket.add(c);
      }
      res.once('close', () => remove(c));
      write(c, retryFrame(retryBase, retryJitter));
      for (const p of backlog) {
        const sent = sendCommand(c, p.command.id, eventFrame('command', p.command, p.cursor));
        if (sent && p.state === 'pending') deliveries.next({ agent, id: p.command.id });
      }
    },

    /** A command was issued: one serialisation, written to each target's open streams. */
    broadcast(command: AgentCommandDto, cursor: number, agents: readonly string[]): number {
      const frame = eventFrame('command', command, cursor);
      let streams = 0;
      for (const agent of agents) {
        const list = byAgent.get(agent);
        if (list) {
          let delivered = false;
          // backwards: a stream over its buffer limit is removed from `list` while we are at it
          for (let i = list.length - 1; i >= 0; i--) if (sendCommand(list[i]!, command.id, frame)) delivered = true;
          if (delivered) {
            streams += 1;
            deliveries.next({ agent, id: command.id });
          }
        }
        wake(agent);
      }
      return streams;
    },

    /** Sends `event: config` with `data` to the agents' open streams; returns how many agents had one. */
    pushConfig(agents: readonly string[], data: unknown): number {
      const frame = eventFrame('config', data);
      let reached = 0;
      for (const agent of agents) {
        const list = byAgent.get(agent);
        if (!list) continue;
        for (let i = list.length - 1; i >= 0; i--) write(list[i]!, frame);
        reached += 1;
      }
      return reached;
    },

    /** Resolves when a command for `agent` is broadcast, after `ms`, or when `signal` aborts. */
    waitFor(agent: string, ms: number, signal?: AbortSignal): Promise<void> {
      if (closed || signal?.aborted) return Promise.resolve();
      return new Promise<void>((resolve) => {
        let set = waiters.get(agent);
        if (!set) waiters.set(agent, (set = new Set()));
        const done = () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', done);
          waiters.get(agent)?.delete(done);
          if (waiters.get(agent)?.size === 0) waiters.delete(agent);
          resolve();
        };
        const timer = setTimeout(done, ms);
        signal?.addEventListener('abort', done, { once: true });
        set.add(done);
      });
    },

    /** Ends every stream of `agent` (it was deleted: its tokens are revoked) with `event: reauth` `{"reason":"revoked"}`. */
    disconnect(agent: string): void {
      for (const c of [...(byAgent.get(agent) ?? [])]) end(c, 'revoked');
      wake(agent);
    },

    isConnected: (agent: string): boolean => byAgent.has(agent),
    /** Whether a long-poll request of `agent` is waiting here. */
    isWaiting: (agent: string): boolean => waiters.has(agent),
    /** Agents with a long-poll request waiting. */
    waitingCount: (): number => waiters.size,
    closed: (): boolean => closed,
    /** Agents with at least one open stream. */
    connectedCount: (): number => byAgent.size,
    /** Open streams (an agent may hold more than one). */
    streamCount: (): number => connections,

    /** Server stop: ends every stream and wakes every long-poll; refuses new streams. */
    close(): void {
      closed = true;
      for (const list of [...byAgent.values()]) {
        for (const c of [...list]) {
          remove(c);
          c.res.end();
        }
      }
      for (const agent of [...waiters.keys()]) wake(agent);
      stopTimers();
      deliveries.complete();
    },
  };
}
export type SseHub = ReturnType<typeof createSseHub>;
