import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { PendingCommand } from '../../projections/commandsReads.js';
import { requestContext } from '../../logger.js';
import type { Principal } from '../http/auth.js';
import { ADMIN_SOCKET } from '../http/auth.js';
import { logRequest, requestIdOf, type RequestLogOptions } from '../http/middleware/requestLog.js';
import type { SseHub } from './hub.js';

export interface CommandStreamDeps {
  hub: SseHub;
  pendingCommands(agent: string, now: number): PendingCommand[];
  /** An agent opened a stream here (scale-out imports its commands issued on other nodes). */
  agentConnected(agent: string): void;
  /** Before the backlog is read (scale-out: targets finished or delivered on other nodes are learnt first). */
  settleAgent?(agent: string): Promise<void>;
}

/** Scale-out: what other nodes did with the agent's open targets, learnt before its backlog is read (never fails). */
export function settleAgent(deps: { scaleOut: { settleAgent(agent: string): Promise<void> } | null; logger: Pick<Logger, 'warn'> }, agent: string): Promise<void> {
  return deps.scaleOut?.settleAgent(agent).catch((err: unknown) => deps.logger.warn({ err, agent }, 'checking the agent’s open commands failed')) ?? Promise.resolve();
}

/** Scale-out: commands issued on other nodes reach the agent's stream through the journal (CommandImported). */
export function connectAgent(deps: { scaleOut: { agentConnected(agent: string): Promise<void> } | null; logger: Pick<Logger, 'warn'> }, agent: string): void {
  deps.scaleOut?.agentConnected(agent).catch((err: unknown) => deps.logger.warn({ err, agent }, 'importing the agent’s commands failed'));
}

/** Gives `res` to the hub as the agent's stream: its unreported commands first (read in the same tick), then live ones. */
export async function openCommandStream(deps: CommandStreamDeps, agent: string, res: ServerResponse, expiresAtMs?: number): Promise<void> {
  if (deps.settleAgent) {
    await deps.settleAgent(agent);
    if (res.destroyed || res.writableEnded) return; // the agent left meanwhile
  }
  // the stream ends with `event: reauth` when its token expires (or the agent is revoked)
  deps.hub.open(agent, res, deps.pendingCommands(agent, Date.now()), expiresAtMs);
  deps.agentConnected(agent);
}

/**
 * `GET <path>` with `Accept: text/event-stream` from an agent with a valid token is served here,
 * before Koa makes a context for it: a stream lives for hours, and Koa would keep the context
 * (request and response wrappers, state, its on-finished listeners) alive as long. Resolves false,
 * having touched nothing, for any other request and whenever the answer is not a stream (no or a
 * bad token, another role, the hub closing, the admin socket): Koa then answers it as it always
 * has, with the same problem+json. The stream is logged and counted as the route would be.
 */
export function createCommandStreamHandover(
  deps: CommandStreamDeps & { path: string; principalOfToken(authorization: string): Promise<Principal | undefined>; log: RequestLogOptions },
) {
  const wants = (req: IncomingMessage): boolean =>
    req.method === 'GET' &&
    (req.url === deps.path || req.url?.startsWith(`${deps.path}?`) === true) &&
    /\btext\/event-stream\b/i.test(req.headers.accept ?? '') &&
    !(req as unknown as Record<symbol, boolean>)[ADMIN_SOCKET];

  return async function handOver(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    if (!wants(req) || deps.hub.closed()) return false;
    const started = performance.now();
    const principal = await deps.principalOfToken(req.headers.authorization ?? '');
    if (principal?.role !== 'agent' || deps.hub.closed() || res.destroyed) return false;
    const incoming = req.headers['x-request-id'];
    const id = requestIdOf(typeof incoming === 'string' ? incoming : undefined);
    res.setHeader('X-Request-Id', id);
    await openCommandStream(deps, principal.sub, res, principal.expiresAt);
    const path = (req.url ?? deps.path).split('?')[0]!;
    const ms = performance.now() - started;
    requestContext.run({ reqId: id }, () => logRequest(deps.log, { method: 'GET', route: deps.path, path, status: 200, ms, principal }));
    return true;
  };
}
