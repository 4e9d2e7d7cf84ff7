import { createPublicKey, timingSafeEqual } from 'node:crypto';
import { API_KEY_PATTERN, hashApiKey } from '../../commands/apiKeys.js';
import type { Context, Next } from 'koa';
import jwt from 'jsonwebtoken';
import koaJwt from 'koa-jwt';
import type { agentStanding } from '../../projections/agentsReads.js';
import type { ApiKeyRow, UserRow } from '../../projections/usersReads.js';
import { Claims, issuedAtMs, type Role, TOKEN_ALGORITHM } from '../../security/tokens.js';
import { HttpError } from './problem.js';

export interface Principal {
  sub: string;
  role: Role;
  /** How the caller is named in journal entries. */
  actor: string;
  /** When the token expires (epoch ms); none over the admin socket. */
  expiresAt?: number;
}

/** Marks requests that came in over the admin Unix socket: the socket is the trust. */
export const ADMIN_SOCKET = Symbol('admin-socket');

export function principalOf(ctx: Context): Principal {
  const p = ctx.state.principal as Principal | undefined;
  if (!p) throw new HttpError(401, 'Unauthorized', 'missing Authorization: Bearer token');
  return p;
}

/**
 * koa-jwt checks the signature and expiry; we then parse the claims (an edge) and refuse tokens
 * of deleted agents or users at once. A token whose signature was verified is remembered until it
 * expires, so an agent's next request costs a map lookup instead of an ECDSA verification; the
 * revocation check runs on every request either way.
 */
export interface TokenCheckOptions {
  publicKey: string;
  /** Whether an agent is registered here and when its tokens were revoked. */
  agentStanding: (uuid: string) => ReturnType<typeof agentStanding>;
  findUser: (name: string) => UserRow | undefined;
  /** When the user's earlier tokens stopped counting (disabled or deleted), in ms. */
  userRevokedAt: (name: string) => number | undefined;
  findApiKey: (id: string) => ApiKeyRow | undefined;
  maxCached?: number;
  /**
   * Scale-out: an agent unknown here may be registered on another node (tokens are signed with the
   * shared key pair); resolves true once it is known here, false when its token must be refused.
   */
  admitAgent?: (uuid: string, iatMs: number) => Promise<boolean>;
  /** Cluster mode: a user unknown here may have been created on another node; resolves true once it is known here. */
  admitUser?: (name: string) => Promise<boolean>;
  /** Cluster mode: an API key unknown here may have been created on another node; resolves true once it is known here. */
  admitApiKey?: (id: string) => Promise<boolean>;
}

export const authenticate = (opts: TokenCheckOptions) => createTokenCheck(opts).middleware;

/** The token check: the middleware (which says why a token is refused) and a plain lookup for the SSE handover. */
export function createTokenCheck(opts: TokenCheckOptions) {
  const revoked = async (claims: Claims): Promise<boolean> => {
    const { sub, role } = claims;
    const iatMs = issuedAtMs(claims);
    if (role === 'agent') {
      const { known, revokedAt } = opts.agentStanding(sub);
      if (revokedAt !== undefined && revokedAt >= iatMs) return true;
      if (known) return false;
      return !(opts.admitAgent && (await opts.admitAgent(sub, iatMs)));
    }
    const revokedAt = opts.userRevokedAt(sub);
    if (revokedAt !== undefined && revokedAt >= iatMs) return true;
    let user = opts.findUser(sub);
    if (!user && opts.admitUser && (await opts.admitUser(sub))) user = opts.findUser(sub);
    return !user || user.role !== role || user.disabled === 1;
  };
  /** An API key (`cak_<id>_<secret>`): its row by id, the hash compared in constant time, not revoked. */
  const apiKeyPrincipal = async (key: string): Promise<Principal> => {
    const id = API_KEY_PATTERN.exec(key)![1]!;
    let row = opts.findApiKey(id);
    if (!row && opts.admitApiKey && (await opts.admitApiKey(id))) row = opts.findApiKey(id);
    const given = Buffer.from(hashApiKey(key), 'hex');
    const ok = row !== undefined && row.revoked_at === null && timingSafeEqual(given, Buffer.from(row.key_hash, 'hex'));
    if (!ok || row === undefined) throw new HttpError(401, 'Unauthorized', 'unknown or revoked API key');
    return { sub: row.name, role: row.role, actor: `api-key:${row.id}` };
  };
  // a parsed KeyObject: jsonwebtoken would otherwise parse the PEM on every request
  const publicKey = createPublicKey(opts.publicKey);
  const verify = koaJwt({
    secret: publicKey as unknown as string,
    algorithms: [TOKEN_ALGORITHM],
    key: 'jwt',
    isRevoked: async (_ctx, decoded) => {
      const claims = Claims.safeParse(decoded);
      return !claims.success || revoked(claims.data);
    },
  });
  const verified = new Map<string, Claims>();
  const maxCached = opts.maxCached ?? 100_000;

  const remember = (token: string, claims: Claims): void => {
    if (verified.size >= maxCached) verified.delete(verified.keys().next().value as string);
    verified.set(token, claims);
  };
  const principal = (claims: Claims): Principal => {
    const actor = claims.role === 'agent' ? `agent:${claims.sub}` : `user:${claims.sub}`;
    return { sub: claims.sub, role: claims.role, actor, expiresAt: claims.exp * 1000 };
  };
  const admit = (ctx: Context, claims: Claims): void => {
    ctx.state.principal = principal(claims);
  };

  /** The principal of a valid token that is not revoked, or undefined (the middleware then answers why). */
  async function principalOfToken(authorization: string): Promise<Principal | undefined> {
    const token = /^Bearer (\S+)$/.exec(authorization)?.[1];
    if (!token) return undefined;
    let claims = verified.get(token);
    if (!claims || claims.exp * 1000 <= Date.now()) {
      let decoded: unknown;
      try {
        decoded = jwt.verify(token, publicKey, { algorithms: [TOKEN_ALGORITHM] });
      } catch {
        return undefined;
      }
      const parsed = Claims.safeParse(decoded);
      if (!parsed.success) return undefined;
      claims = parsed.data;
      remember(token, claims);
    }
    return (await revoked(claims)) ? undefined : principal(claims);
  }

  const middleware = async function authenticate(ctx: Context, next: Next): Promise<void> {
    if ((ctx.req as unknown as Record<symbol, boolean>)[ADMIN_SOCKET]) {
      ctx.state.principal = { sub: 'admin-socket', role: 'operator', actor: 'admin-socket' } satisfies Principal;
      return next();
    }
    const token = /^Bearer (\S+)$/.exec(ctx.get('Authorization'))?.[1];
    if (token && API_KEY_PATTERN.test(token)) {
      ctx.state.principal = await apiKeyPrincipal(token);
      return next();
    }
    const known = token ? verified.get(token) : undefined;
    if (known && known.exp * 1000 > Date.now()) {
      if (await revoked(known)) throw new HttpError(401, 'Unauthorized', 'the token was revoked');
      admit(ctx, known);
      return next();
    }
    if (known && token) verified.delete(token);
    await verify(ctx, async () => {
      const claims = Claims.parse(ctx.state.jwt);
      if (token) remember(token, claims);
      admit(ctx, claims);
      await next();
    });
  };
  return { middleware, principalOfToken };
}

/** The one role check: 403 unless the principal has one of `roles`. */
export const requireRole = (...roles: Role[]) =>
  async function requireRole(ctx: Context, next: Next): Promise<void> {
    const p = principalOf(ctx);
    if (!roles.includes(p.role)) {
      throw new HttpError(403, 'Forbidden', `this needs the role ${roles.join(' or ')}; the token's role is ${p.role}`);
    }
    await next();
  };
