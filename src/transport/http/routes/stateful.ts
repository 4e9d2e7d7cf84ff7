import Router from '@koa/router';
import type { Middleware } from 'koa';
import { z } from 'zod';
import { asAgentId } from '../../../journal/ids.js';
import type { Role } from '../../../security/tokens.js';
import { principalOf } from '../auth.js';
import { readBody, requireContentType } from '../body.js';
import type { HttpDeps } from '../deps.js';
import { HttpError } from '../problem.js';
import { describe } from '../routeDocs.js';
import { NDJSON_TYPES } from './events.js';
import { BASE_PATH } from '../basePath.js';

const WaitQuery = z.object({ wait: z.coerce.number().int().min(0).max(60).default(10) });
const BatchParams = z.object({ batch: z.string().min(1).max(128) });
const ItemResult = z.object({ id: z.string(), index: z.string(), result: z.string().nullable(), status: z.number().nullable() });
const Indexed = z.object({ durability: z.literal('indexed'), batch: z.string(), results: z.array(ItemResult) });
const Journaled = z.object({ durability: z.literal('journaled'), batch: z.string(), status_url: z.string() });
const BatchState = z.object({
  batch: z.string(),
  seq: z.number(),
  agent: z.string(),
  state: z.enum(['journaled', 'indexed', 'partial']),
  received_at: z.string(),
  items: z.array(ItemResult.extend({ module: z.string(), operation: z.string(), error: z.string().optional() })),
});

describe({
  method: 'post',
  path: '/events/stateful',
  tags: ['events'],
  auth: ['agent'],
  summary: 'Send stateful events',
  description:
    'NDJSON: the agent line, then per item a header `{id, module, collector?, operation}` and a data line (none after a ' +
    'delete). The whole body is validated before anything is journaled. The answer waits up to `?wait=` seconds for the ' +
    'indexer to acknowledge the batch: 200 with per-item results, else 202 with the status URL (at once when no indexer ' +
    'is configured). A `module:"command"` item with `id` = a command id also records that command\'s result.',
  query: WaitQuery,
  body: { contentTypes: [...NDJSON_TYPES], binary: false, description: 'NDJSON lines' },
  responses: {
    200: { description: 'indexed', schema: Indexed },
    202: { description: 'journaled, not yet indexed', schema: Journaled },
  },
});
describe({
  method: 'get',
  path: '/events/stateful/:batch',
  tags: ['events'],
  auth: ['agent', 'operator', 'auditor'],
  summary: 'State of a stateful batch and its per-item results',
  description: 'An agent sees only its own batches.',
  params: BatchParams,
  responses: { 200: { description: 'the batch', schema: BatchState } },
});

export const statusUrl = (batch: string): string => `${BASE_PATH}/events/stateful/${encodeURIComponent(batch)}`;

/** The ports these routes use, bound once by the composition root (main.ts passes its HttpDeps). */
export type StatefulRouteDeps = {
  commands: Pick<HttpDeps['commands'], 'ingestStateful'>;
  config: Pick<HttpDeps['config'], 'maxBodyBytes'>;
  drain: Pick<HttpDeps['drain'], 'indexerEnabled' | 'waitIndexed'>;
  reads: Pick<HttpDeps['reads'], 'findStatefulBatch'>;
};

export function statefulRoutes(deps: StatefulRouteDeps, guard: (...roles: Role[]) => Middleware[]): Router {
  const router = new Router();

  router.post('/events/stateful', ...guard('agent'), async (ctx) => {
    requireContentType(ctx, NDJSON_TYPES);
    const { wait } = WaitQuery.parse(ctx.query);
    const body = await readBody(ctx, deps.config.maxBodyBytes);
    const agent = asAgentId(principalOf(ctx).sub);
    const journaled = await deps.commands.ingestStateful(agent, body);
    const indexed = deps.drain.indexerEnabled && (await deps.drain.waitIndexed(journaled.seq, wait * 1000));
    const state = indexed ? deps.reads.findStatefulBatch(journaled.batch) : undefined;
    if (state) {
      ctx.status = 200;
      ctx.body = {
        durability: 'indexed',
        batch: journaled.batch,
        results: state.items.map((i) => ({ id: i.id, index: i.index, result: i.result, status: i.status, ...(i.error ? { error: i.error } : {}) })),
      };
      return;
    }
    ctx.status = 202;
    ctx.set('Location', statusUrl(journaled.batch));
    ctx.body = { durability: 'journaled', batch: journaled.batch, status_url: statusUrl(journaled.batch) };
  });

  router.get('/events/stateful/:batch', ...guard('agent', 'operator', 'auditor'), (ctx) => {
    const { batch } = BatchParams.parse(ctx.params);
    const p = principalOf(ctx);
    const state = deps.reads.findStatefulBatch(batch);
    if (!state || (p.role === 'agent' && state.agent !== p.sub)) throw new HttpError(404, 'Not Found', `no stateful batch ${batch}`);
    ctx.body = state;
  });

  return router;
}
