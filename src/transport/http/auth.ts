import { createPublicKey, timingSafeEqual } from 'node:crypto';
import { API_KEY_PATTERN, hashApiKey } from '../../commands/apiKeys.js';
import type { Context, Next } from 'koa';
import koaJwt from 'koa-jwt';
import type { Db } from '../../journal/database.js';
import { agentStanding } from '../../queries/agents.js';
import { findApiKey, findUser, userRevokedAt } from '../../queries/users.js';
import { Claims, type Role, TOKEN_ALGORITHM } from '../../security/tokens.js';
import { HttpError } from './problem.js';

export interface Principal {
  sub: string;
  role: Role;
  /** How the caller is named in journal entries. */
  actor: string;
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
export const authenticate = (opts: {
  publicKey: string;
  db: Db;
  maxCached?: number;
  /**
   * Scale-out: an agent unknown here may be registered on another node (tokens are signed with the
   * shared key pair); resolves true once it is known here, false when its token must be refused.
   */
  admitAgent?: (uuid: string, iatMs: number) => Promise<boolean>;
}) => {
  const revoked = async (claims: Claims): Promise<boolean> => {
    const { sub, role, iat } = claims;
    if (role === 'agent') {
      const { known, revokedAt } = agentStanding(opts.db, sub);
      if (revokedAt !== undefined && revokedAt >= iat * 1000) return true;
      if (known) return false;
      return !(opts.admitAgent && (await opts.admitAgent(sub, iat * 1000)));
    }
    const user = findUser(opts.db, sub);
    if (!user || user.role !== role || user.disabled === 1) return true;
    const revokedAt = userRevokedAt(opts.db, sub);
    return revokedAt !== undefined && revokedAt >= iat * 1000;
  };
  /** An API key (`cak_<id>_<secret>`): its row by id, the hash compared in constant time, not revoked. */
  const apiKeyPrincipal = (key: string): Principal => {
    const id = API_KEY_PATTERN.exec(key)![1]!;
    const row = findApiKey(opts.db, id);
    const given = Buffer.from(hashApiKey(key), 'hex');
    const ok = row !== undefined && row.revoked_at === null && timingSafeEqual(given, Buffer.from(row.key_hash, 'hex'));
    if (!ok) throw new HttpError(401, 'Unauthorized', 'unknown or revoked API key');
    return { sub: row.name, role: row.role, actor: `api-key:${row.id}` };
  };
  const verify = koaJwt({
    // a parsed KeyObject: jsonwebtoken would otherwise parse the PEM on every request
    secret: createPublicKey(opts.publicKey) as unknown as string,
    algorithms: [TOKEN_ALGORITHM],
    key: 'jwt',
    isRevoked: async (_ctx, decoded) => {
      const claims = Claims.safeParse(decoded);
      return !claims.success || revoked(claims.data);
    },
  });
  const verified = new Map<string, Claims>();
  const maxCached = opts.maxCached ?? 100_000;

  const admit = (ctx: Context, claims: Claims): void => {
    const actor = claims.role === 'agent' ? `agent:${claims.sub}` : `user:${claims.sub}`;
    ctx.state.principal = { sub: claims.sub, role: claims.role, actor } satisfies Principal;
  };

  return async function authenticate(ctx: Context, next: Next): Promise<void> {
    if ((ctx.req as unknown as Record<symbol, boolean>)[ADMIN_SOCKET]) {
      ctx.state.principal = { sub: 'admin-socket', role: 'operator', actor: 'admin-socket' } satisfies Principal;
      return next();
    }
    const token = /^Bearer (\S+)$/.exec(ctx.get('Authorization'))?.[1];
    if (token && API_KEY_PATTERN.test(token)) {
      ctx.state.principal = apiKeyPrincipal(token);
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
      if (token) {
        if (verified.size >= maxCached) verified.delete(verified.keys().next().value as string);
        verified.set(token, claims);
      }
      admit(ctx, claims);
      await next();
    });
  };
};

/** The one role check: 403 unless the principal has one of `roles`. */
export const requireRole = (...roles: Role[]) =>
  async function requireRole(ctx: Context, next: Next): Promise<void> {
    const p = principalOf(ctx);
    if (!roles.includes(p.role)) {
      throw new HttpError(403, 'Forbidden', `this needs the role ${roles.join(' or ')}; the token's role is ${p.role}`);
    }
    await next();
  };
