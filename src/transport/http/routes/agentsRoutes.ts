import Router from '@koa/router';
import type { Middleware } from 'koa';
import { RegisterAgent } from '../../../commands/registerAgent.js';
import { AgentId } from '../../../journal/ids.js';
import { principalOf } from '../auth.js';
import { readJson } from '../body.js';
import type { HttpDeps } from '../deps.js';

export function agentsRoutes(deps: HttpDeps, guard: (...roles: Array<'agent' | 'operator' | 'auditor'>) => Middleware[]): Router {
  const router = new Router();

  router.post('/agents', ...guard('operator'), async (ctx) => {
    const cmd = await readJson(ctx, RegisterAgent);
    ctx.body = await deps.commands.registerAgent(cmd, principalOf(ctx).actor);
    ctx.status = 201;
    ctx.set('Location', `/api/v1/agents/${encodeURIComponent(cmd.uuid)}`);
  });

  router.delete('/agents/:uuid', ...guard('operator'), async (ctx) => {
    await deps.commands.deleteAgent(AgentId.parse(ctx.params.uuid), principalOf(ctx).actor);
    ctx.status = 204;
  });

  return router;
}
