import Router from '@koa/router';
import type { Middleware } from 'koa';
import { ActionName, PutCatalogEntry } from '../../../commands/putCatalogEntry.js';
import { findCatalogEntry, listCatalog } from '../../../queries/catalog.js';
import { principalOf } from '../auth.js';
import { readJson } from '../body.js';
import type { HttpDeps } from '../deps.js';
import { HttpError } from '../problem.js';

type Guard = (...roles: Array<'agent' | 'operator' | 'auditor'>) => Middleware[];

export function catalogRoutes(deps: HttpDeps, guard: Guard): Router {
  const router = new Router();
  const db = deps.journal.db;

  router.get('/catalog', ...guard('operator'), (ctx) => {
    ctx.body = { items: listCatalog(db) };
  });

  router.get('/catalog/:name', ...guard('operator'), (ctx) => {
    const name = ActionName.parse(ctx.params.name);
    const entry = findCatalogEntry(db, name);
    if (!entry) throw new HttpError(404, 'Not Found', `no action "${name}" in the catalogue`);
    ctx.body = entry;
  });

  /** Creates (201) or replaces (200) a definition; its `args` must be a valid JSON Schema. */
  router.put('/catalog/:name', ...guard('operator'), async (ctx) => {
    const name = ActionName.parse(ctx.params.name);
    const cmd = await readJson(ctx, PutCatalogEntry);
    const existed = Boolean(findCatalogEntry(db, name));
    ctx.body = await deps.commands.putCatalogEntry(name, cmd, principalOf(ctx).actor);
    ctx.status = existed ? 200 : 201;
  });

  return router;
}
