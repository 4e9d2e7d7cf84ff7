import Router from '@koa/router';
import type { Middleware } from 'koa';
import { z } from 'zod';
import { ifNoneMatchHit } from '../../../projections/etag.js';
import type { Role } from '../../../security/tokens.js';
import { principalOf } from '../auth.js';
import type { HttpDeps } from '../deps.js';
import { HttpError } from '../problem.js';
import { describe } from '../routeDocs.js';

describe({
  method: 'get',
  path: '/configuration',
  tags: ['groups'],
  auth: ['agent'],
  summary: "The calling agent's merged configuration",
  description:
    "The configurations of the agent's groups merged in the order the groups are listed on the agent: a later group " +
    'overrides an earlier one; objects are merged key by key, arrays and scalars are replaced. `If-None-Match` with ' +
    'the current ETag answers 304.',
  headers: [{ name: 'If-None-Match', description: 'the ETag the agent has' }],
  responses: {
    200: { description: 'the merged configuration', schema: z.record(z.string(), z.unknown()), headers: { ETag: 'strong ETag of the merged configuration' } },
    304: { description: 'the agent has the current configuration' },
  },
});

/** The ports these routes use, bound once by the composition root (main.ts passes its HttpDeps). */
export type ConfigurationRouteDeps = {
  reads: Pick<HttpDeps['reads'], 'agentConfiguration'>;
};

export function configurationRoutes(deps: ConfigurationRouteDeps, guard: (...roles: Role[]) => Middleware[]): Router {
  const router = new Router();

  router.get('/configuration', ...guard('agent'), (ctx) => {
    const merged = deps.reads.agentConfiguration(principalOf(ctx).sub);
    if (!merged) throw new HttpError(404, 'Not Found', 'the agent is not registered');
    ctx.set('ETag', merged.etag);
    ctx.set('Cache-Control', 'no-cache');
    const inm = ctx.get('If-None-Match');
    if (inm && ifNoneMatchHit(inm, merged.etag)) {
      ctx.status = 304;
      return;
    }
    ctx.body = merged.configuration;
  });

  return router;
}
