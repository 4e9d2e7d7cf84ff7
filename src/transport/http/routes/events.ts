import Router from '@koa/router';
import type { Middleware } from 'koa';
import { z } from 'zod';
import { asAgentId } from '../../../journal/ids.js';
import { principalOf } from '../auth.js';
import { readBody, requireContentType } from '../body.js';
import type { HttpDeps } from '../deps.js';
import { describe } from '../routeDocs.js';

/** NDJSON media types; `application/json` too, because the existing Wazuh agent labels its NDJSON bodies so. */
export const NDJSON_TYPES = ['application/x-ndjson', 'application/ndjson', 'application/json'] as const;
const IdempotencyKey = z.string().min(1).max(200).regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces');

describe({
  method: 'post',
  path: '/events/stateless',
  tags: ['events'],
  auth: ['agent'],
  summary: 'Push a batch of stateless events (NDJSON); 202 once it is in the journal',
  description:
    'First line `{"agent": {...}}`, then for each event a header line `{"module", "collector"}` and a data line (a JSON ' +
    'object). The batch is journaled as sent, in one entry. A retry with the same `Idempotency-Key` and the same body ' +
    'gets the first answer; the same key with another body is 422. Lines nest at most 64 levels (400 naming the line).',
  headers: [{ name: 'Idempotency-Key', description: 'printable ASCII without spaces, at most 200', schema: IdempotencyKey }],
  body: { contentTypes: [...NDJSON_TYPES], description: 'NDJSON' },
  responses: {
    202: {
      description: 'journaled (fsynced)',
      schema: z.object({ batch: z.string(), seq: z.number().int(), events: z.number().int(), durability: z.literal('journaled') }),
    },
    422: { description: 'the Idempotency-Key was used for another body; nothing is journaled' },
  },
});

/** The ports these routes use, bound once by the composition root (main.ts passes its HttpDeps). */
export type EventsRouteDeps = {
  commands: Pick<HttpDeps['commands'], 'ingestStateless'>;
  config: Pick<HttpDeps['config'], 'maxBodyBytes'>;
};

export function eventsRoutes(deps: EventsRouteDeps, guard: (...roles: Array<'agent' | 'operator' | 'auditor'>) => Middleware[]): Router {
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
