import { z } from 'zod';
import { failure, type IndexerClient, type IndexerResult } from './indexerClient.js';
import { AGENTS_INDEX, COMMANDS_INDEX } from './templates.js';

/** Journal entries made from what the index says (scale-out) carry this actor; they are never mirrored back. */
export const INDEXER_ACTOR = 'indexer';

const isoTime = z.iso.datetime({ offset: true }).transform((s) => Date.parse(s));

/** An agents index document as the indexer pipeline writes it: a registration, or a deletion's tombstone. */
export const AgentDoc = z.union([
  z.object({ uuid: z.string(), deleted: z.literal(true), deleted_at: isoTime }).loose(),
  z.object({
    uuid: z.string(),
    name: z.string(),
    groups: z.array(z.string()),
    key_hash: z.string(),
    registered_at: isoTime,
    updated_at: isoTime.optional(),
    deleted: z.undefined().optional(),
  }).loose(),
]);
export type AgentDoc = z.infer<typeof AgentDoc>;
export type RegisteredAgentDoc = Extract<AgentDoc, { key_hash: string }>;

/** A commands index document `<command>:<agent>`; the command's fields are there once its CommandIssued was mirrored. */
export const CommandDoc = z.object({
  command_id: z.string(),
  agent: z.string(),
  state: z.enum(['pending', 'delivered', 'success', 'failure', 'expired', 'cancelled']),
  actor: z.string(),
  issued_by: z.string().optional(),
  updated_at: isoTime,
  action: z.object({ name: z.string(), version: z.string(), args: z.unknown() }).optional(),
  target: z.object({ type: z.enum(['agent', 'group', 'all']), id: z.string().optional() }).optional(),
  issued_at: isoTime.optional(),
  expires_at: isoTime.optional(),
  code: z.number().optional(),
  message: z.string().optional(),
  result: z.unknown().optional(),
});
export type CommandDoc = z.infer<typeof CommandDoc>;

/** A document read while following an index: its sequence number and its parsed source (undefined when unreadable). */
export interface FollowedDoc<T> {
  id: string;
  seqNo: number;
  doc: T | undefined;
}

const Hit = z.object({ _id: z.string(), _seq_no: z.number().optional(), _source: z.unknown() });
const SearchAnswer = z.object({ hits: z.object({ hits: z.array(Hit) }) });
const GetAnswer = z.object({ found: z.boolean(), _source: z.unknown().optional() });
const MgetAnswer = z.object({ docs: z.array(z.object({ _id: z.string(), found: z.boolean().optional(), _source: z.unknown().optional() })) });

/** Reads of the shared indices, for scale-out: real-time gets and sequence-number searches. */
export function createIndexReader(indexer: Pick<IndexerClient, 'client'>) {
  const { client } = indexer;

  async function get<T>(index: string, id: string, schema: z.ZodType<T>): Promise<IndexerResult<T | undefined>> {
    try {
      const r = await client.get({ index, id }, { ignore: [404] });
      const answer = GetAnswer.safeParse(r.body);
      if (!answer.success || !answer.data.found) return { ok: true, value: undefined };
      const doc = schema.safeParse(answer.data._source);
      return { ok: true, value: doc.success ? doc.data : undefined };
    } catch (err) {
      return failure(err);
    }
  }

  async function search<T>(index: string, body: Record<string, unknown>, schema: z.ZodType<T>): Promise<IndexerResult<FollowedDoc<T>[]>> {
    try {
      const r = await client.search({ index, body: body as never, seq_no_primary_term: true, ignore_unavailable: true } as never);
      const answer = SearchAnswer.safeParse(r.body);
      if (!answer.success) return { ok: false, retryable: true, reason: 'indexer sent an unreadable search answer' };
      return {
        ok: true,
        value: answer.data.hits.hits.map((h) => {
          const doc = schema.safeParse(h._source);
          return { id: h._id, seqNo: h._seq_no ?? 0, doc: doc.success ? doc.data : undefined };
        }),
      };
    } catch (err) {
      return failure(err);
    }
  }

  return {
    agent: (uuid: string) => get(AGENTS_INDEX, uuid, AgentDoc),
    commandTarget: (command: string, agent: string) => get(COMMANDS_INDEX, `${command}:${agent}`, CommandDoc),
    /** The documents of these (command, agent) targets, real-time (no refresh lag); missing ones are left out. */
    async commandTargets(targets: ReadonlyArray<{ command: string; agent: string }>, timeoutMs: number): Promise<IndexerResult<CommandDoc[]>> {
      if (targets.length === 0) return { ok: true, value: [] };
      try {
        const r = await client.mget({ index: COMMANDS_INDEX, body: { ids: targets.map((t) => `${t.command}:${t.agent}`) } } as never, { requestTimeout: timeoutMs });
        const answer = MgetAnswer.safeParse(r.body);
        if (!answer.success) return { ok: false, retryable: true, reason: 'indexer sent an unreadable mget answer' };
        return { ok: true, value: answer.data.docs.flatMap((d) => { const doc = d.found ? CommandDoc.safeParse(d._source) : undefined; return doc?.success ? [doc.data] : []; }) };
      } catch (err) {
        return failure(err);
      }
    },
    /** Up to `size` documents changed after sequence number `after`, in sequence order. */
    changedAfter<T>(index: string, after: number, size: number, schema: z.ZodType<T>) {
      return search(index, { size, query: { range: { _seq_no: { gt: after } } }, sort: [{ _seq_no: 'asc' }] }, schema);
    },
    /** The agent's targets that are still open and not past their deadline (a connecting agent's backlog). */
    openTargetsOf(agent: string, now: number, size = 500) {
      return search(
        COMMANDS_INDEX,
        {
          size,
          query: {
            bool: {
              filter: [
                { term: { agent } },
                { terms: { state: ['pending', 'delivered'] } },
                { range: { expires_at: { gt: new Date(now).toISOString() } } },
              ],
            },
          },
          sort: [{ _seq_no: 'asc' }],
        },
        CommandDoc,
      );
    },
    /**
     * Registered agents (not tombstones), optionally one group's members, in uuid order after
     * `afterUuid`: the targets of a group or `all` command as the whole cluster knows them.
     */
    registeredAgents(opts: { group?: string; afterUuid?: string; size: number }) {
      const filter: unknown[] = [{ exists: { field: 'registered_at' } }];
      if (opts.group !== undefined) filter.push({ term: { groups: opts.group } });
      return search(
        AGENTS_INDEX,
        {
          size: opts.size,
          query: { bool: { filter } },
          sort: [{ uuid: 'asc' }],
          ...(opts.afterUuid !== undefined ? { search_after: [opts.afterUuid] } : {}),
        },
        AgentDoc,
      );
    },
    /** Whether any target of the command is in the index (to tell "not a target" from "unknown command"). */
    async commandExists(command: string): Promise<IndexerResult<boolean>> {
      const r = await search(COMMANDS_INDEX, { size: 1, query: { term: { command_id: command } } }, z.unknown());
      return r.ok ? { ok: true, value: r.value.length > 0 } : r;
    },
  };
}
export type IndexReader = ReturnType<typeof createIndexReader>;
