import Router from '@koa/router';
import type { Middleware } from 'koa';
import { z } from 'zod';
import { CreateApiKey } from '../../../commands/apiKeys.js';
import { CreateUser } from '../../../commands/createUser.js';
import { UserName } from '../../../journal/ids.js';
import { apiKeysPage, apiKeyView, findUser, usersPage, userView } from '../../../projections/usersReads.js';
import type { Role } from '../../../security/tokens.js';
import { principalOf } from '../auth.js';
import { readJson } from '../body.js';
import type { HttpDeps } from '../deps.js';
import { pageOf, PageQuery } from '../pagination.js';
import { describe } from '../routeDocs.js';

const NameParams = z.object({ name: UserName });
const KeyParams = z.object({ id: z.string().regex(/^[0-9a-f]{12}$/, 'an API key id (12 hexadecimal digits)') });
const ListQuery = PageQuery.strict();
const User = z.object({ name: z.string(), role: z.enum(['operator', 'auditor']), disabled: z.boolean(), created_at: z.string(), changed_at: z.string().nullable() });
const ApiKey = z.object({
  id: z.string(),
  name: z.string(),
  role: z.enum(['operator', 'auditor', 'metrics']),
  created_at: z.string(),
  created_by: z.string(),
  revoked: z.boolean(),
  revoked_at: z.string().nullable(),
});
const Created = z.object({ id: z.string(), key: z.string(), name: z.string(), role: z.string() });

const tags = ['users'];
describe({ method: 'get', path: '/users', tags, auth: ['operator'], summary: 'List users (operators and auditors)', query: ListQuery, responses: { 200: { description: 'a page', schema: z.object({ users: z.array(User), next_cursor: z.string().nullable() }) } } });
describe({
  method: 'post',
  path: '/users',
  tags,
  auth: ['operator'],
  summary: 'Create a user, or replace its role and password',
  body: { schema: CreateUser },
  responses: { 201: { description: 'stored', schema: z.object({ name: z.string(), role: z.string() }) } },
});
for (const change of ['disable', 'enable'] as const) {
  describe({
    method: 'post',
    path: `/users/:name/${change}`,
    tags,
    auth: ['operator'],
    summary: change === 'disable' ? "Disable a user: its tokens are refused at once, it cannot log in" : 'Enable a disabled user (its earlier tokens stay refused)',
    params: NameParams,
    responses: { 200: { description: 'the user', schema: User } },
  });
}
describe({ method: 'delete', path: '/users/:name', tags, auth: ['operator'], summary: 'Delete a user; its tokens are refused at once', params: NameParams, responses: { 204: { description: 'deleted' } } });
describe({
  method: 'post',
  path: '/api-keys',
  tags,
  auth: ['operator'],
  summary: 'Create an API key for automation (shown once)',
  description: 'The answer is the only time the key is shown; the server keeps its SHA-256. Send it as `Authorization: Bearer <key>`. Role `metrics` can only scrape `GET /metrics`.',
  body: { schema: CreateApiKey },
  responses: { 201: { description: 'the key', schema: Created } },
});
describe({ method: 'get', path: '/api-keys', tags, auth: ['operator'], summary: 'List API keys (never the keys themselves)', query: ListQuery, responses: { 200: { description: 'a page', schema: z.object({ api_keys: z.array(ApiKey), next_cursor: z.string().nullable() }) } } });
describe({ method: 'delete', path: '/api-keys/:id', tags, auth: ['operator'], summary: 'Revoke an API key: refused at once', params: KeyParams, responses: { 204: { description: 'revoked' } } });

/** The ports these routes use, bound once by the composition root (main.ts passes its HttpDeps). */
export type UsersRouteDeps = {
  commands: Pick<HttpDeps['commands'], 'createApiKey' | 'createUser' | 'revokeApiKey' | 'userLifecycle'>;
  reads: Pick<HttpDeps['reads'], 'apiKeysPage' | 'findUser' | 'usersPage'>;
};

/** Users' lifecycle and API keys: every change journaled with the actor. */
export function usersRoutes(deps: UsersRouteDeps, guard: (...roles: Role[]) => Middleware[]): Router {
  const router = new Router();

  router.get('/users', ...guard('operator'), (ctx) => {
    const q = ListQuery.parse(ctx.query);
    const { page, next_cursor } = pageOf(deps.reads.usersPage(q.cursor ?? '', q.limit + 1), q.limit, (u) => u.name);
    ctx.body = { users: page.map(userView), next_cursor };
  });

  router.post('/users', ...guard('operator'), async (ctx) => {
    const cmd = await readJson(ctx, CreateUser);
    ctx.body = await deps.commands.createUser(cmd, principalOf(ctx).actor);
    ctx.status = 201;
  });

  for (const change of ['disable', 'enable'] as const) {
    router.post(`/users/:name/${change}`, ...guard('operator'), async (ctx) => {
      const { name } = NameParams.parse(ctx.params);
      await deps.commands.userLifecycle(name, change, principalOf(ctx).actor);
      ctx.body = userView(deps.reads.findUser(name)!);
    });
  }

  router.delete('/users/:name', ...guard('operator'), async (ctx) => {
    const { name } = NameParams.parse(ctx.params);
    await deps.commands.userLifecycle(name, 'delete', principalOf(ctx).actor);
    ctx.status = 204;
  });

  router.post('/api-keys', ...guard('operator'), async (ctx) => {
    const cmd = await readJson(ctx, CreateApiKey);
    ctx.body = await deps.commands.createApiKey(cmd, principalOf(ctx).actor);
    ctx.status = 201;
  });

  router.get('/api-keys', ...guard('operator'), (ctx) => {
    const q = ListQuery.parse(ctx.query);
    const { page, next_cursor } = pageOf(deps.reads.apiKeysPage(q.cursor ?? '', q.limit + 1), q.limit, (k) => k.id);
    ctx.body = { api_keys: page.map(apiKeyView), next_cursor };
  });

  router.delete('/api-keys/:id', ...guard('operator'), async (ctx) => {
    const { id } = KeyParams.parse(ctx.params);
    await deps.commands.revokeApiKey(id, principalOf(ctx).actor);
    ctx.status = 204;
  });

  return router;
}
