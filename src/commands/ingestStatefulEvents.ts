import { z } from 'zod';
import type { Db } from '../journal/database.js';
import type { Entry, EntryOf } from '../journal/entries.js';
import type { GroupCommit, Tx } from '../journal/groupCommit.js';
import { asCommandId, type AgentId } from '../journal/ids.js';
import { AgentCommandResult, AlreadyReportedError, applyCommandResult, NotATargetError, CommandResult, outcomeOf, StatefulCommandResult, UnknownCommandError } from './recordCommandResult.js';
import { InvalidBatchError } from './ingestStatelessEvents.js';
import { reportFactsIn } from './reportAgentFacts.js';
import { checkAgentLine, isObject, type LineCheck, type NdjsonResult, parseNdjson, parseNdjsonYielding } from '../ndjson.js';

/** A stateful header line: `{id, module, collector?, operation}`. */
export const StatefulHeader = z.object({
  id: z.string().min(1).max(512),
  module: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$/, 'letters, digits, "_", "." or "-", at most 100'),
  collector: z.string().max(256).optional(),
  operation: z.enum(['create', 'update', 'delete']),
});
export type StatefulHeader = z.infer<typeof StatefulHeader>;
export type StatefulItem = StatefulHeader & { doc?: Record<string, unknown> };

export const COMMAND_MODULE = 'command';
export const MAX_STATEFUL_ITEMS = 10_000;

/**
 * Validates a whole stateful body before anything is journaled: agent line, then per item a
 * header and (unless it deletes) a data object. A `module:"command"` item carries a command
 * result, so its data line must be one. Errors name the 1-based line.
 */
function statefulParser(): { check: LineCheck; finish(parsed: NdjsonResult): StatefulBatch } {
  const items: StatefulItem[] = [];
  let open: StatefulHeader | null = null;
  let agentLine: unknown;
  const check: LineCheck = (v, i) => {
    if (i === 0) {
      agentLine = v;
      return checkAgentLine(v);
    }
    if (open) {
      if (!isObject(v)) return 'the data line must be a JSON object';
      if (open.module === COMMAND_MODULE) {
        const r = StatefulCommandResult.safeParse(v);
        if (!r.success) return commandResultError(v);
      }
      items.push({ ...open, doc: v });
      open = null;
      return null;
    }
    const h = StatefulHeader.safeParse(v);
    if (!h.success) {
      const issue = h.error.issues[0]!;
      return `invalid header: ${issue.path.join('.') || 'line'}: ${issue.message}`;
    }
    if (items.length >= MAX_STATEFUL_ITEMS) return `a batch holds at most ${MAX_STATEFUL_ITEMS} items`;
    if (h.data.operation === 'delete') items.push(h.data);
    else open = h.data;
    return null;
  };
  const finish = (parsed: NdjsonResult): StatefulBatch => {
    if (!parsed.ok) throw new InvalidBatchError(parsed.line, parsed.reason);
    if (open) throw new InvalidBatchError(parsed.lines + 1, `item "${(open as StatefulHeader).id}" has no data line`);
    if (items.length === 0) throw new InvalidBatchError(2, 'a batch needs the agent line and at least one item');
    return { items, agentLine };
  };
  return { check, finish };
}

/** A parsed stateful body: its items and the agent line (host facts the agent reports). */
export interface StatefulBatch {
  items: StatefulItem[];
  agentLine: unknown;
}

export function parseStatefulBody(body: Buffer): StatefulItem[] {
  const p = statefulParser();
  return p.finish(parseNdjson(body, p.check)).items;
}

/** The same, in slices that leave the event loop free between them; also returns the agent line. */
export async function parseStatefulBatchYielding(body: Buffer): Promise<StatefulBatch> {
  const p = statefulParser();
  return p.finish(await parseNdjsonYielding(body, p.check));
}

export async function parseStatefulBodyYielding(body: Buffer): Promise<StatefulItem[]> {
  return (await parseStatefulBatchYielding(body)).items;
}

/** Why a data line is no command result, in the terms of the shape it resembles. */
function commandResultError(v: Record<string, unknown>): string {
  const schema = 'command' in v ? AgentCommandResult : CommandResult;
  const issue = schema.safeParse(v).error?.issues[0];
  return `a command result needs ${issue?.path.join('.') || 'fields'}: ${issue?.message ?? 'a status or command.result'}`;
}

/**
 * Records a command result carried by a stateful item. The existing agent's shape
 * (`{"command":{"result":{code}}}`) is answered 2xx even when the server cannot take it (a late
 * or second result, an unknown command): that agent resends a refused batch forever, which would
 * hold back its inventory. Such a result is not recorded; the item itself is journaled.
 */
function applyItemResult(db: Db, tx: Tx, agent: AgentId, item: StatefulItem): void {
  const result = StatefulCommandResult.parse(item.doc);
  const lenient = !('status' in result);
  const id = asCommandId(item.id);
  if (!lenient) return void applyCommandResult(db, tx, agent, id, result);
  try {
    applyCommandResult(db, tx, agent, id, outcomeOf(result));
  } catch (err) {
    if (!(err instanceof AlreadyReportedError || err instanceof UnknownCommandError || err instanceof NotATargetError)) throw err;
  }
}

/** Pure decision: one entry for the batch. */
export function decideIngestStateful(cmd: { agent: AgentId; batch: string; items: StatefulItem[] }): EntryOf<'StatefulEventsReceived'> {
  return {
    type: 'StatefulEventsReceived',
    stream: cmd.agent,
    actor: `agent:${cmd.agent}`,
    data: { agent: cmd.agent, batch: cmd.batch, items: cmd.items },
  };
}

export interface StatefulJournaled {
  batch: string;
  seq: number;
  items: StatefulItem[];
}

/**
 * Journals a stateful batch. Items of module "command" are also command results, recorded in
 * the same transaction (the batch fails as a whole if one of them is refused).
 */
export function ingestStatefulEvents(deps: { db: Db; commit: GroupCommit; newBatchId: () => string }) {
  const reportFacts = reportFactsIn(deps.db);
  return async (agent: AgentId, body: Buffer): Promise<StatefulJournaled> => {
    const { items, agentLine } = await parseStatefulBatchYielding(body);
    const batch = deps.newBatchId();
    return deps.commit.run((tx) => {
      const stored = tx.append(decideIngestStateful({ agent, batch, items }) as Entry);
      reportFacts(tx, agent, agentLine);
      for (const item of items) {
        if (item.module === COMMAND_MODULE && item.doc) applyItemResult(deps.db, tx, agent, item);
      }
      return { batch, seq: stored.seq, items };
    });
  };
}
