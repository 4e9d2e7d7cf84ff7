import { createHash } from 'node:crypto';
import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import { UNKNOWN_PRINCIPAL_HASH, verifySecret } from '../../../security/secrets.js';
import type { Role } from '../../../security/tokens.js';
import { readJson } from '../body.js';
import { principalOf } from '../auth.js';
import { clientAddressOf } from '../clientAddress.js';
import type { HttpDeps } from '../deps.js';
import { HttpError } from '../problem.js';
import { describeTag } from '../routeDocs.js';

const doc = describeTag('authentication');
const loginFailures = {
  401: { description: 'unknown principal or wrong credentials; an agent 401 carries `message`: "Invalid key" or "Agent does not exist"' },
  429: { description: 'too many failed logins (`Retry-After`)' },
  503: { description: 'too many credential checks waiting, or (scale-out) an agent or user unknown to this node cannot be looked up in the indexer right now (`Retry-After`)' },
};

/** The `message` of an agent's 401, as the existing Wazuh agent reads it (it then stops retrying). */
export const AGENT_INVALID_KEY = 'Invalid key';
export const AGENT_UNKNOWN = 'Agent does not exist';

export const AgentLogin = z.object({ uuid: z.string().min(1).max(64), key: z.string().min(1).max(256) });
export const UserLogin = z.object({ username: z.string().min(1).max(64), password: z.string().min(1).max(1024) });
export const LoginBody = z.union([AgentLogin, UserLogin]);
export const TokenResponse = z.object({
  token: z.string(),
  token_type: z.literal('Bearer'),
  expires_at: z.string(),
});

doc('post', '/login', {
  auth: 'anyone',
  summary: 'Get a token: an agent with {uuid, key}, a user with {username, password}',
  body: { schema: LoginBody },
  responses: {
    200: { description: 'a token', schema: TokenResponse },
    ...loginFailures,
  },
});
doc('post', '/login/renew', {
  auth: ['operator', 'auditor'],
  summary: "A fresh token for the user of a valid token (the CLI renews its stored token before it expires)",
  description: 'Only user tokens: a disabled or deleted user gets 401 as on any route; API keys do not expire and are 403 here.',
  responses: { 200: { description: 'a token', schema: TokenResponse } },
});
doc('post', '/authentication', {
  auth: 'anyone',
  summary: 'Agent login (compatibility alias of /login): answers just the token',
  description:
    'A 401 for an agent carries `message`: `"Invalid key"` (registered, wrong key) or `"Agent does not exist"` ' +
    '(unknown uuid), on which the existing Wazuh agent stops retrying. `POST /login` with `{uuid, key}` answers the same.',
  body: { schema: AgentLogin },
  responses: {
    200: { description: 'a token', schema: z.object({ token: z.string() }) },
    ...loginFailures,
  },
});

/**
 * Recently verified user credentials, as sha256(principal ‖ secret ‖ stored hash): a user logging
 * in again does not pay for scrypt again, and a changed password or deleted user misses the cache.
 * (Agent keys are verified by HMAC, cheaper than this cache.)
 */
function createVerifiedCache(max = 50_000) {
  const seen = new Set<string>();
  const digest = (principal: string, secret: string, stored: string) =>
    createHash('sha256').update(`${principal}\0${secret}\0${stored}`).digest('base64');
  return {
    async verify(principal: string, secret: string, stored: string | undefined): Promise<boolean> {
      if (!stored) {
        await verifySecret(secret, UNKNOWN_PRINCIPAL_HASH);
        return false;
      }
      const d = digest(principal, secret, stored);
      if (seen.has(d)) return true;
      const ok = await verifySecret(secret, stored);
      if (ok) {
        if (seen.size >= max) seen.delete(seen.values().next().value as string);
        seen.add(d);
      }
      return ok;
    },
  };
}

export type Login = (ctx: Context, body: z.infer<typeof LoginBody>) => Promise<{ sub: string; role: Role }>;

/** The ports these routes use, bound once by the composition root (main.ts passes its HttpDeps). */
export type AuthRouteDeps = Pick<HttpDeps, 'issueToken' | 'scaleOut' | 'sharedUsers'> & {
  agentKeys: Pick<HttpDeps['agentKeys'], 'hash' | 'verify'>;
  commands: Pick<HttpDeps['commands'], 'rehashAgentKey'>;
  config: Pick<HttpDeps['config'], 'trustedProxies'>;
  logger: Pick<HttpDeps['logger'], 'warn'>;
  metrics: Pick<HttpDeps['metrics'], 'observeLogin'>;
  reads: Pick<HttpDeps['reads'], 'findAgent' | 'findUser'>;
  throttle: Pick<HttpDeps['throttle'], 'begin'>;
};

/**
 * The one credential check (throttled, scrypt behind a cache), shared by `/login`,
 * `/authentication` and the enrollment routes: resolves with the principal, or throws 401/429.
 */
export function createLogin(deps: AuthRouteDeps): Login {
  const cache = createVerifiedCache();
  const clientAddress = clientAddressOf(deps.config.trustedProxies);

  /**
   * An agent this node does not know may be registered on another node (scale-out): its key is
   * verified against the agents index's key hash, and only then is the agent imported here.
   */
  async function verifyAgent(uuid: string, key: string): Promise<{ ok: boolean; known: boolean }> {
    const local = deps.reads.findAgent(uuid)?.key_hash;
    if (local || !deps.scaleOut) return { ok: await checkAgentKey(uuid, key, local), known: Boolean(local) };
    const indexed = await deps.scaleOut.findAgent(uuid);
    // verified before the import: a wrong key writes nothing
    const { ok, rehash } = await deps.agentKeys.verify(key, indexed?.key_hash);
    if (!ok || !indexed) return { ok: false, known: Boolean(indexed) };
    await deps.scaleOut.importAgent(indexed);
    if (rehash) await rehashKey(uuid, key, indexed.key_hash);
    return { ok: true, known: true };
  }

  /**
   * A disabled user's password is still checked (same cost), then refused. In cluster mode a user
   * this node does not know may have been created on another node: its password is verified
   * against the users index's hash, and only then is the user imported here.
   */
  async function verifyUser(principalKey: string, name: string, password: string): Promise<{ ok: boolean; role: Role }> {
    const local = deps.reads.findUser(name);
    if (local || !deps.sharedUsers) {
      const ok = (await cache.verify(principalKey, password, local?.password_hash)) && local?.disabled !== 1;
      return { ok, role: local?.role ?? 'auditor' };
    }
    const indexed = await deps.sharedUsers.findUser(name);
    const ok = (await cache.verify(principalKey, password, indexed?.doc.password_hash)) && indexed?.doc.disabled === false;
    if (ok && indexed) await deps.sharedUsers.importUser(indexed);
    return { ok, role: indexed?.doc.role ?? 'auditor' };
  }

  /** A keyed hash (HMAC, microseconds): no cache needed; a legacy scrypt hash is replaced on success. */
  async function checkAgentKey(uuid: string, key: string, stored: string | undefined): Promise<boolean> {
    const { ok, rehash } = await deps.agentKeys.verify(key, stored);
    if (ok && rehash && stored) await rehashKey(uuid, key, stored);
    return ok;
  }

  /** Journals `AgentKeyRehashed`; the login succeeds even if that write fails (the next one retries). */
  async function rehashKey(uuid: string, key: string, verified: string): Promise<void> {
    try {
      await deps.commands.rehashAgentKey(uuid, verified, deps.agentKeys.hash(key));
    } catch (err) {
      deps.logger.warn({ err, agent: uuid }, 're-hashing an agent key failed');
    }
  }

  /**
   * The attempt is reserved in the throttle before the slow hash (so simultaneous guesses are
   * counted), keyed by address and principal; a check that could not be made (hash queue full,
   * indexer unreachable: 503) gives its reservation back.
   */
  async function login(ctx: Context, body: z.infer<typeof LoginBody>): Promise<{ sub: string; role: Role }> {
    const isAgent = 'uuid' in body;
    const principalKey = isAgent ? `agent:${body.uuid}` : `user:${body.username}`;
    const decision = deps.throttle.begin(clientAddress(ctx), principalKey);
    if (!decision.ok) {
      deps.logger.warn({ client: clientAddress(ctx), principal: principalKey, retry_after: decision.retryAfter }, 'login refused: throttled');
      deps.metrics.observeLogin('throttled');
      const retry = String(decision.retryAfter);
      throw new HttpError(429, 'Too Many Requests', 'too many failed logins; try again later', {}, { 'Retry-After': retry });
    }
    const { attempt } = decision;
    let ok: boolean;
    let role: Role;
    let message = 'unknown principal or wrong credentials';
    try {
      if (isAgent) {
        const agent = await verifyAgent(body.uuid, body.key);
        ok = agent.ok;
        role = 'agent';
        // the existing Wazuh agent stops retrying on exactly these messages
        message = agent.known ? AGENT_INVALID_KEY : AGENT_UNKNOWN;
      } else {
        const user = await verifyUser(principalKey, body.username, body.password);
        ok = user.ok;
        role = user.role;
      }
    } catch (err) {
      attempt.abandoned();
      throw err;
    }
    if (!ok) {
      attempt.failed();
      deps.logger.warn({ client: clientAddress(ctx), principal: principalKey }, 'login refused: unknown principal or wrong credentials');
      deps.metrics.observeLogin('bad_credentials');
      throw new HttpError(401, 'Unauthorized', isAgent ? `${message}: unknown principal or wrong credentials` : message, isAgent ? { message } : {});
    }
    attempt.succeeded();
    deps.metrics.observeLogin('ok');
    return { sub: isAgent ? body.uuid : body.username, role };
  }
  return login;
}

export function authRoutes(deps: AuthRouteDeps, guard: (...roles: Role[]) => Middleware[], login: Login): Router {
  const router = new Router();

  router.post('/login', async (ctx) => {
    const { sub, role } = await login(ctx, await readJson(ctx, LoginBody));
    ctx.body = { ...deps.issueToken(sub, role), token_type: 'Bearer' };
  });

  router.post('/login/renew', ...guard('operator', 'auditor'), (ctx) => {
    const p = principalOf(ctx);
    if (!p.actor.startsWith('user:')) throw new HttpError(403, 'Forbidden', 'only a user token can be renewed (API keys and the admin socket need none)');
    ctx.body = { ...deps.issueToken(p.sub, p.role), token_type: 'Bearer' };
  });

  router.post('/authentication', async (ctx) => {
    const { sub, role } = await login(ctx, await readJson(ctx, AgentLogin));
    ctx.body = { token: deps.issueToken(sub, role).token };
  });

  return router;
}
