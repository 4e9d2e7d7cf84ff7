import Router from '@koa/router';
import type { Middleware } from 'koa';
import { z } from 'zod';
import { verifyChain } from '../../../journal/verifyChain.js';
import type { HttpDeps } from '../deps.js';
import { describe } from '../routeDocs.js';
import { sendNdjson } from '../ndjson.js';
import { AuditQuery, auditTrail } from '../../../queries/audit.js';

describe({
  method: 'get',
  path: '/journal/verify',
  tags: ['journal'],
  auth: ['auditor'],
  summary: 'Verify the hash chain of the journal',
  description: 'Walks every entry from the anchor (genesis, or the last pruned entry); the first changed, removed or reordered entry is `first_bad_seq`.',
  responses: {
    200: {
      description: 'the result',
      schema: z.object({ ok: z.boolean(), checked: z.number().int(), first_bad_seq: z.number().int().optional() }),
    },
  },
});

const AuditPage = z.object({
  items: z.array(
    z.object({
      seq: z.number().int(),
      time: z.string(),
      kind: z.string(),
      type: z.string(),
      subject: z.string(),
      actor: z.string(),
      details: z.record(z.string(), z.unknown()),
    }),
  ),
  next_cursor: z.string().nullable(),
});
describe({
  method: 'get',
  path: '/audit',
  tags: ['journal'],
  auth: ['operator', 'auditor'],
  summary: 'The audit trail beside commands: configuration, package, catalogue, user, API key, agent and journal changes',
  description:
    'In journal order, each with its `actor` and `time`. Filters: `kind`, `actor` (`alice` matches `user:alice`), `subject` ' +
    '(the group, package, action, user, key id or agent uuid), `since`, `until`. Pages with `cursor` = the previous `next_cursor`; ' +
    '`format=ndjson` answers every matching item, one JSON object a line (an export). Command state changes are in `GET /commands/history`.',
  query: AuditQuery,
  responses: { 200: { description: 'one page (or NDJSON lines with format=ndjson)', schema: AuditPage } },
});

type Guard = (...roles: Array<'agent' | 'operator' | 'auditor'>) => Middleware[];

export function auditRoutes(deps: HttpDeps, guard: Guard): Router {
  const router = new Router();

  /** Walks the hash chain: `{ok, checked, first_bad_seq?}`. */
  router.get('/journal/verify', ...guard('auditor'), (ctx) => {
    ctx.body = verifyChain(deps.journal.db);
  });

  router.get('/audit', ...guard('operator', 'auditor'), (ctx) => {
    const q = AuditQuery.parse(ctx.query);
    if (q.format === 'ndjson') {
      return sendNdjson(ctx, (cursor) => auditTrail(deps.journal.db, { ...q, limit: 1000, cursor: cursor === undefined ? q.cursor : Number(cursor) }));
    }
    ctx.body = auditTrail(deps.journal.db, q);
  });

  return router;
}
