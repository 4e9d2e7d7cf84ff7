import Router from '@koa/router';
import type { Middleware } from 'koa';
import { z } from 'zod';
import { ConfigurationBody, PutGroupConfiguration } from '../../../commands/putGroupConfiguration.js';
import { GroupName } from '../../../journal/ids.js';
import type { Role } from '../../../security/tokens.js';
import { principalOf } from '../auth.js';
import { readJson } from '../body.js';
import type { HttpDeps } from '../deps.js';
import { HttpError } from '../problem.js';
import { describeTag } from '../routeDocs.js';

const doc = describeTag('groups');

const GroupParams = z.object({ group: GroupName });
const CONFIG_LIMIT = 1024 * 1024;
const etagHeader = { ETag: 'strong ETag of the configuration (sha256 of its canonical JSON)' };

doc('get', '/groups/:group/configuration', {
  auth: ['operator'],
  summary: "A group's configuration",
  description: 'A group that never had a configuration has `{}` and the ETag of `{}`.',
  params: GroupParams,
  responses: { 200: { description: 'the configuration', schema: ConfigurationBody, headers: etagHeader } },
});
doc('put', '/groups/:group/configuration', {
  auth: ['operator'],
  summary: "Replace a group's configuration",
  description:
    '`If-Match` must carry the current ETag (the ETag of `{}` for a group without configuration; `*` matches only ' +
    'a group that has one). The change is journaled and pushed to the group\'s agents as `event: config`.',
  params: GroupParams,
  headers: [{ name: 'If-Match', required: true, description: 'the ETag the change is based on' }],
  body: { schema: ConfigurationBody },
  responses: {
    200: { description: 'stored (or unchanged)', schema: ConfigurationBody, headers: etagHeader },
    412: { description: 'If-Match does not match the current ETag (in cluster mode: the version in the groups index, which another node may have written)' },
    503: { description: 'cluster mode: the groups index cannot be read or written right now; nothing changed (`Retry-After`)' },
    428: { description: 'If-Match is missing' },
  },
});

doc('get', '/groups', {
  auth: ['operator', 'auditor'],
  summary: 'Every group that has members or a configuration',
  responses: {
    200: {
      description: 'the groups, by name',
      schema: z.object({
        groups: z.array(z.object({ group: z.string(), agents: z.number().int(), configured: z.boolean(), etag: z.string(), updated_at: z.string().nullable() })),
        next_cursor: z.null(),
      }),
    },
  },
});

/** The ports these routes use, bound once by the composition root (main.ts passes its HttpDeps). */
export type GroupsRouteDeps = {
  commands: Pick<HttpDeps['commands'], 'putGroupConfiguration'>;
  reads: Pick<HttpDeps['reads'], 'groupConfiguration' | 'listGroups'>;
};

export function groupsRoutes(deps: GroupsRouteDeps, guard: (...roles: Role[]) => Middleware[]): Router {
  const router = new Router();

  router.get('/groups', ...guard('operator', 'auditor'), (ctx) => {
    ctx.body = { groups: deps.reads.listGroups(), next_cursor: null };
  });

  router.get('/groups/:group/configuration', ...guard('operator'), (ctx) => {
    const { group } = GroupParams.parse(ctx.params);
    const current = deps.reads.groupConfiguration(group);
    ctx.set('ETag', current.etag);
    ctx.set('Cache-Control', 'no-cache');
    ctx.body = current.configuration;
  });

  router.put('/groups/:group/configuration', ...guard('operator'), async (ctx) => {
    const { group } = GroupParams.parse(ctx.params);
    const ifMatch = ctx.get('If-Match');
    if (!ifMatch) {
      throw new HttpError(428, 'Precondition Required', 'send If-Match with the ETag from GET (the ETag of {} for a new group)');
    }
    const configuration = await readJson(ctx, ConfigurationBody, CONFIG_LIMIT);
    const cmd = PutGroupConfiguration.parse({ group, configuration, ifMatch });
    const { etag } = await deps.commands.putGroupConfiguration(cmd, principalOf(ctx).actor);
    ctx.set('ETag', etag);
    ctx.body = configuration;
  });

  return router;
}
