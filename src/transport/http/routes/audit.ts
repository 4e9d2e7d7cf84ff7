import Router from '@koa/router';
import type { Middleware } from 'koa';
import { z } from 'zod';
import { Receipt, ReceiptInput, withReceipt } from '../../../evidence/receipt.js';
import { readJson } from '../body.js';
import type { HttpDeps } from '../deps.js';
import { describe } from '../routeDocs.js';
import { sendNdjson } from '../ndjson.js';
import { AuditQuery, auditTrail } from '../../../queries/audit.js';

const SignedHeadSchema = z.object({
  n: z.number().int(),
  node: z.string(),
  seq: z.number().int(),
  hash: z.string(),
  time: z.string(),
  key_id: z.string(),
  signature: z.string(),
});
const Verdict = z.object({
  ok: z.boolean(),
  checked: z.number().int(),
  head_seq: z.number().int(),
  signed_head: SignedHeadSchema.nullable(),
  signed_heads: z.number().int(),
  unsigned_entries: z.number().int(),
  first_untrusted_seq: z.number().int().optional(),
  first_bad_seq: z.number().int().optional(),
  reason: z.string().optional(),
  problems: z.array(z.string()).optional(),
});
const ReceiptAnswer = z.object({ ok: z.boolean(), seq: z.number().int(), detail: z.string().optional(), reason: z.string().optional() });

const HOW =
  'Walks every entry from the anchor (genesis, or the last pruned entry) and checks the chain against every signed head ' +
  '(Ed25519 signatures of `(node, n, seq, hash, time)`, numbered so a removed one shows). A changed entry, a rewritten and ' +
  'recomputed range, a removed tail, a removed or foreign signed head, or a moved prune anchor give `ok: false`, ' +
  '`first_untrusted_seq` (also as `first_bad_seq`) and the `reason`. `signed_head` is the newest signed head: a receipt to keep.';

describe({
  method: 'get',
  path: '/journal/verify',
  tags: ['journal'],
  auth: ['auditor'],
  summary: 'Verify the journal against its signed heads',
  description: HOW,
  responses: { 200: { description: 'the result (ok or not)', schema: Verdict } },
});
describe({
  method: 'post',
  path: '/journal/verify',
  tags: ['journal'],
  auth: ['auditor'],
  summary: 'Verify the journal and a receipt kept from an earlier verify',
  description:
    `${HOW} The body is a receipt: a \`signed_head\` printed by an earlier verify (or that whole answer). ` +
    'It proves the journal still holds that exact entry at that seq with that chain hash (its signature is checked with this ' +
    "node's key); `receipt.reason` says why not. `ok` is false when either check fails.",
  body: { schema: Receipt },
  responses: { 200: { description: 'the result', schema: Verdict.extend({ receipt: ReceiptAnswer }) } },
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

/** The ports these routes use, bound once by the composition root (main.ts passes its HttpDeps). */
export type AuditRouteDeps = {
  journal: Pick<HttpDeps['journal'], 'checkReceipt' | 'verify'>;
  reads: Pick<HttpDeps['reads'], 'auditTrail'>;
};

export function auditRoutes(deps: AuditRouteDeps, guard: Guard): Router {
  const router = new Router();

  router.get('/journal/verify', ...guard('auditor'), (ctx) => {
    ctx.body = deps.journal.verify();
  });

  router.post('/journal/verify', ...guard('auditor'), async (ctx) => {
    const receipt = await readJson(ctx, ReceiptInput);
    const verdict = deps.journal.verify();
    ctx.body = withReceipt(verdict, deps.journal.checkReceipt(receipt));
  });

  router.get('/audit', ...guard('operator', 'auditor'), (ctx) => {
    const q = AuditQuery.parse(ctx.query);
    if (q.format === 'ndjson') {
      return sendNdjson(ctx, (cursor) => deps.reads.auditTrail({ ...q, limit: 1000, cursor: cursor === undefined ? q.cursor : Number(cursor) }));
    }
    ctx.body = deps.reads.auditTrail(q);
  });

  return router;
}
