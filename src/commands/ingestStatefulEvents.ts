import { z } from 'zod';
import type { Db } from '../journal/database.js';
import type { Entry, EntryOf } from '../journal/entries.js';
import type { GroupCommit } from '../journal/groupCommit.js';
import { asCommandId, type AgentId } from '../journal/ids.js';
import { applyCommandResult, CommandResult } from './recordCommandResult.js';
import { InvalidBatchError } from './ingestStatelessEvents.js';
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
function statefulParser(): { check: LineCheck; finish(parsed: NdjsonResult): StatefulItem[] } {
  const items: StatefulItem[] = [];
  let open: StatefulHeader | null = null;
  const check: LineCheck = (v, i) => {
    if (i === 0) return checkAgentLine(v);
    if (open) {
      if (!isObject(v)) return 'the data line must be a JSON object';
      if (open.module === COMMAND_MODULE) {
        const r = CommandResult.safeParse(v);
        if (!r.success) return `a command result needs ${r.error.issues[0]!.path.join('.') || 'fields'}: ${r.error.issues[0]!.message}`;
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
  const finish = (parsed: NdjsonResult): StatefulItem[] => {
    if (!parsed.ok) throw new InvalidBatchError(parsed.line, parsed.reason);
    if (open) throw new InvalidBatchError(parsed.lines + 1, `item "${(open as StatefulHeader).id}" has no data line`);
    if (items.length === 0) throw new InvalidBatchError(2, 'a batch needs the agent line and at least one item');
    return items;
  };
  return { check, finish };
}

export function parseStatefulBody(body: Buffer): StatefulItem[] {
  const p = statefulParser();
  return p.finish(parseNdjson(body, p.check));
}

/** The same, in slices that leave the event loop free between them. */
export async function parseStatefulBodyYielding(body: Buffer): Promise<StatefulItem[]> {
  const p = statefulParser();
  return p.finish(await parseNdjsonYielding(body, p.check));
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
  return async (agent: AgentId, body: Buffer): Promise<StatefulJournaled> => {
    const items = await parseStatefulBodyYielding(body);
    const batch = deps.newBatchId();
    return deps.commit.run((tx) => {
      const stored = tx.append(decideIngestStateful({ agent, batch, items }) as Entry);
      for (const item of items) {
        if (item.module !== COMMAND_MODULE || !item.doc) continue;
        applyCommandResult(deps.db, tx, agent, asCommandId(item.id), CommandResult.parse(item.doc));
      }
      return { batch, seq: stored.seq, items };
    });
  };
}
