import type { Context, Next } from 'koa';
import koaJwt from 'koa-jwt';
import type { Db } from '../../journal/database.js';
import { agentRevokedAt, findAgent } from '../../queries/agents.js';
import { findUser } from '../../queries/users.js';
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
 * of deleted agents or users at once.
 */
export const authenticate = (opts: { publicKey: string; db: Db }) => {
  const verify = koaJwt({
    secret: opts.publicKey,
    algorithms: [TOKEN_ALGORITHM],
    key: 'jwt',
    isRevoked: async (_ctx, decoded) => {
      const claims = Claims.safeParse(decoded);
      if (!claims.success) return true;
      const { sub, role, iat } = claims.data;
      if (role === 'agent') {
        const revokedAt = agentRevokedAt(opts.db, sub);
        if (revokedAt !== undefined && revokedAt >= iat * 1000) return true;
        return !findAgent(opts.db, sub);
      }
      const user = findUser(opts.db, sub);
      return !user || user.role !== role;
    },
  });
  return async function authenticate(ctx: Context, next: Next): Promise<void> {
    if ((ctx.req as unknown as Record<symbol, boolean>)[ADMIN_SOCKET]) {
      ctx.state.principal = { sub: 'admin-socket', role: 'operator', actor: 'admin-socket' } satisfies Principal;
      return next();
    }
    await verify(ctx, async () => {
      const claims = Claims.parse(ctx.state.jwt);
      const actor = claims.role === 'agent' ? `agent:${claims.sub}` : `user:${claims.sub}`;
      ctx.state.principal = { sub: claims.sub, role: claims.role, actor } satisfies Principal;
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
