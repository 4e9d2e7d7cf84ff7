import Router from '@koa/router';
import type { Context, Middleware } from 'koa';
import { z } from 'zod';
import { RegisterAgent } from '../../../commands/registerAgent.js';
import { AgentFacts, AgentHost } from '../../../commands/reportAgentFacts.js';
import { AgentId } from '../../../journal/ids.js';
import type { Role } from '../../../security/tokens.js';
import { principalOf } from '../auth.js';
import { readJson } from '../body.js';
import type { HttpDeps } from '../deps.js';
import { HttpError } from '../problem.js';
import { describe } from '../routeDocs.js';
import { UserLogin, type Login } from './auth.js';

/**
 * The existing Wazuh agent's `--enroll` (src/agent/src/agent_enrollment.cpp): it keeps only the
 * scheme, host and port of its enroll URL, so these two routes live outside /api/v1, on the same
 * listener. It acts on the status alone: any non-2xx of the first, anything but 201 of the second,
 * is reported and ends the enrollment.
 */
export const EnrollBody = z.object({
  id: AgentId,
  key: RegisterAgent.shape.key,
  name: z.string().min(1).max(256).optional(),
  type: AgentFacts.shape.type,
  version: AgentFacts.shape.version,
  host: AgentHost.optional(),
});
const Enrolled = z.object({ data: z.object({ id: z.string(), name: z.string(), groups: z.array(z.string()), registered_at: z.string() }) });

describe({
  method: 'post',
  path: '/security/user/authenticate',
  basePath: false,
  operationId: 'postEnrollmentAuthenticate',
  tags: ['enrollment'],
  auth: 'anyone',
  summary: "Enrollment step 1 (the existing Wazuh agent's --enroll): an operator's HTTP Basic credentials → a token",
  description:
    '`Authorization: Basic base64(user:password)` of a user with the role operator, no body. The token is an operator ' +
    'token, as `POST /api/v1/login` gives. Failed attempts are throttled like logins.',
  headers: [{ name: 'Authorization', description: '`Basic base64(user:password)`', required: true }],
  responses: {
    200: { description: 'the token, where the agent reads it', schema: z.object({ data: z.object({ token: z.string() }) }) },
    401: { description: 'no or malformed Basic credentials, unknown user or wrong password' },
    403: { description: 'the user is not an operator' },
    429: { description: 'too many failed logins (`Retry-After`)' },
  },
});
describe({
  method: 'post',
  path: '/agents',
  basePath: false,
  operationId: 'postEnrollmentAgents',
  tags: ['enrollment'],
  auth: ['operator'],
  summary: 'Enrollment step 2: register the agent with the uuid and key it generated, and its host facts',
  description:
    'The agent\'s body `{id, key, name, type, version, host}`. 201 registers it (no groups; `set-group` assigns them). ' +
    'The same uuid with the same key again is 201 too (a retried enrollment; changed host facts are kept); with another ' +
    'key it is 409. A key that is not 32 letters and digits is 400.',
  body: { schema: EnrollBody },
  responses: {
    201: { description: 'registered (or already registered with this key)', schema: Enrolled, headers: { Location: 'the agent' } },
    409: { description: 'the uuid is registered with another key' },
  },
});

const BASIC = /^Basic ([A-Za-z0-9+/]{1,2048}={0,2})$/;

/** `user:password` from an HTTP Basic header (the password may contain ":"); 401 when there is none. */
export function basicCredentials(header: string): { username: string; password: string } {
  const b64 = BASIC.exec(header)?.[1];
  const text = b64 ? Buffer.from(b64, 'base64').toString('utf8') : '';
  const colon = text.indexOf(':');
  if (colon <= 0 || colon === text.length - 1) {
    throw new HttpError(401, 'Unauthorized', 'this needs HTTP Basic credentials of an operator (Authorization: Basic base64(user:password))');
  }
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** The ports these routes use, bound once by the composition root (main.ts passes its HttpDeps). */
export type EnrollmentRouteDeps = Pick<HttpDeps, 'issueToken'> & {
  agentKeys: Pick<HttpDeps['agentKeys'], 'verify'>;
  commands: Pick<HttpDeps['commands'], 'registerAgent' | 'reportAgentFacts'>;
  reads: Pick<HttpDeps['reads'], 'findAgent'>;
};

export function enrollmentRoutes(deps: EnrollmentRouteDeps, guard: (...roles: Role[]) => Middleware[], login: Login): Router {
  const router = new Router();

  router.post('/security/user/authenticate', async (ctx) => {
    const credentials = UserLogin.safeParse(basicCredentials(ctx.get('Authorization')));
    if (!credentials.success) throw new HttpError(401, 'Unauthorized', 'unknown principal or wrong credentials');
    const { sub, role } = await login(ctx, credentials.data);
    if (role !== 'operator') throw new HttpError(403, 'Forbidden', `enrolling agents needs an operator; ${sub} is ${role}`);
    ctx.body = { data: { token: deps.issueToken(sub, role).token } };
  });

  /** An agent registered with this very key: the enrollment is answered again (its facts may have changed). */
  async function reenrolled(ctx: Context, body: z.infer<typeof EnrollBody>): Promise<boolean> {
    const known = deps.reads.findAgent(body.id);
    if (!known) return false;
    if (!(await deps.agentKeys.verify(body.key, known.key_hash)).ok) throw new HttpError(409, 'Conflict', `agent ${body.id} is already registered with another key`);
    await deps.commands.reportAgentFacts(body.id, facts(body));
    ctx.body = { data: { id: known.uuid, name: known.name, groups: JSON.parse(known.groups) as string[], registered_at: iso(known.registered_at) } };
    return true;
  }

  router.post('/agents', ...guard('operator'), async (ctx) => {
    const body = await readJson(ctx, EnrollBody);
    ctx.status = 201;
    ctx.set('Location', `/api/v1/agents/${encodeURIComponent(body.id)}`);
    if (await reenrolled(ctx, body)) return;
    const cmd = { uuid: body.id, key: body.key, ...(body.name ? { name: body.name } : {}), facts: facts(body) };
    const r = await deps.commands.registerAgent(cmd, principalOf(ctx).actor);
    ctx.body = { data: { id: r.uuid, name: r.name, groups: r.groups, registered_at: r.registered_at } };
  });

  return router;
}

const facts = (b: z.infer<typeof EnrollBody>): AgentFacts => ({
  ...(b.type !== undefined ? { type: b.type } : {}),
  ...(b.version !== undefined ? { version: b.version } : {}),
  ...(b.host !== undefined ? { host: b.host } : {}),
});
