import Router from '@koa/router';
import type { Middleware } from 'koa';
import { z } from 'zod';
import { asAgentId } from '../../../journal/ids.js';
import { principalOf } from '../auth.js';
import { readBody, requireContentType } from '../body.js';
import type { HttpDeps } from '../deps.js';

export const NDJSON_TYPES = ['application/x-ndjson', 'application/ndjson'] as const;
const IdempotencyKey = z.string().min(1).max(200).regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');

export function eventsRoutes(deps: HttpDeps, guard: (...roles: Array<'agent' | 'operator' | 'auditor'>) => Middleware[]): Router {
  const router = new Router();

  router.post('/events/stateless', ...guard('agent'), async (ctx) => {
    requireContentType(ctx, NDJSON_TYPES);
    const header = ctx.get('Idempotency-Key');
    const key = header ? IdempotencyKey.parse(header) : undefined;
    const body = await readBody(ctx, deps.config.maxBodyBytes);
    const agent = asAgentId(principalOf(ctx).sub);
    ctx.body = await deps.commands.ingestStateless(agent, body, key);
    ctx.status = 202;
  });

  return router;
}
