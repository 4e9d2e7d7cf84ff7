import Router from '@koa/router';
import type { Middleware } from 'koa';
import { z } from 'zod';
import { ActionName, PutCatalogEntry } from '../../../commands/putCatalogEntry.js';
import { principalOf } from '../auth.js';
import { readJson } from '../body.js';
import type { HttpDeps } from '../deps.js';
import { HttpError } from '../problem.js';
import { describe } from '../routeDocs.js';

const NameParams = z.object({ name: ActionName });
const CatalogEntry = PutCatalogEntry.extend({ name: z.string(), updated_at: z.string(), updated_by: z.string(), revision: z.number().int() });

describe({
  method: 'get',
  path: '/catalog',
  tags: ['catalog'],
  auth: ['operator'],
  summary: 'Command definitions',
  responses: { 200: { description: 'every definition, by name', schema: z.object({ items: z.array(CatalogEntry) }) } },
});
describe({
  method: 'get',
  path: '/catalog/:name',
  tags: ['catalog'],
  auth: ['operator'],
  summary: 'One command definition',
  params: NameParams,
  responses: { 200: { description: 'the definition', schema: CatalogEntry } },
});
describe({
  method: 'put',
  path: '/catalog/:name',
  tags: ['catalog'],
  auth: ['operator'],
  summary: 'Create or replace a command definition',
  description: '`args` is a JSON Schema (draft-07; unknown keywords are refused) that command arguments are validated with; `default_timeout` is in seconds. Every change is journaled (CatalogEntryPut).',
  params: NameParams,
  body: { schema: PutCatalogEntry },
  responses: { 200: { description: 'replaced', schema: CatalogEntry }, 201: { description: 'created', schema: CatalogEntry } },
});

type Guard = (...roles: Array<'agent' | 'operator' | 'auditor'>) => Middleware[];

/** The ports these routes use, bound once by the composition root (main.ts passes its HttpDeps). */
export type CatalogRouteDeps = {
  commands: Pick<HttpDeps['commands'], 'putCatalogEntry'>;
  reads: Pick<HttpDeps['reads'], 'findCatalogEntry' | 'listCatalog'>;
};

export function catalogRoutes(deps: CatalogRouteDeps, guard: Guard): Router {
  const router = new Router();

  router.get('/catalog', ...guard('operator'), (ctx) => {
    ctx.body = { items: deps.reads.listCatalog() };
  });

  router.get('/catalog/:name', ...guard('operator'), (ctx) => {
    const { name } = NameParams.parse(ctx.params);
    const entry = deps.reads.findCatalogEntry(name);
    if (!entry) throw new HttpError(404, 'Not Found', `no action "${name}" in the catalogue`);
    ctx.body = entry;
  });

  /** Creates (201) or replaces (200) a definition; its `args` must be a valid JSON Schema. */
  router.put('/catalog/:name', ...guard('operator'), async (ctx) => {
    const { name } = NameParams.parse(ctx.params);
    const cmd = await readJson(ctx, PutCatalogEntry);
    const existed = Boolean(deps.reads.findCatalogEntry(name));
    ctx.body = await deps.commands.putCatalogEntry(name, cmd, principalOf(ctx).actor);
    ctx.status = existed ? 200 : 201;
  });

  return router;
}
