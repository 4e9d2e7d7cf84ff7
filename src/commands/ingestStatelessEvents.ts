import type { Db } from '../journal/database.js';
import type { Entry } from '../journal/entries.js';
import type { GroupCommit } from '../journal/groupCommit.js';
import type { AgentId } from '../journal/ids.js';
import { checkAgentLine, isObject, parseNdjson } from './parseNdjson.js';
import { reportFactsIn } from './reportAgentFacts.js';

export class InvalidBatchError extends Error {
  constructor(readonly line: number, readonly reason: string) {
    super(`line ${line}: ${reason}`);
  }
}

export interface StatelessAck {
  batch: string;
  seq: number;
  events: number;
  durability: 'journaled';
}

/** Validates a stateless body: agent line, then header `{module, collector}` + data object pairs; returns the event count. */
export function validateStatelessBody(body: Buffer): number {
  return parseStatelessBody(body).events;
}

/** The same, also returning the parsed agent line. */
export function parseStatelessBody(body: Buffer): { events: number; agentLine: unknown } {
  const parsed = parseNdjson(body, (v, i) => {
    if (i === 0) return checkAgentLine(v);
    if (!isObject(v)) return i % 2 === 1 ? 'a header must be a JSON object' : 'an event must be a JSON object';
    if (i % 2 === 1 && (typeof v.module !== 'string' || typeof v.collector !== 'string')) {
      return 'a header needs string "module" and "collector"';
    }
    return null;
  });
  if (!parsed.ok) throw new InvalidBatchError(parsed.line, parsed.reason);
  const n = parsed.lines.length;
  if (n < 3) throw new InvalidBatchError(n + 1, 'a batch needs the agent line and at least one event');
  if (n % 2 === 0) throw new InvalidBatchError(n + 1, 'the last header has no event line');
  return { events: (n - 1) / 2, agentLine: parsed.lines[0] };
}

export const batchId = (seq: number): string => `stateless-${seq}`;

/** Pure decision: a batch seen before under the same Idempotency-Key is answered again, not journaled. */
export function decideIngestStateless(
  previous: { seq: number; events: number } | undefined,
  cmd: { agent: AgentId; body: Buffer; events: number; idempotencyKey?: string | undefined },
): { replay: StatelessAck } | { entry: Entry } {
  if (previous) {
    return { replay: { batch: batchId(previous.seq), seq: previous.seq, events: previous.events, durability: 'journaled' } };
  }
  const data = { agent: cmd.agent, events: cmd.events, ...(cmd.idempotencyKey ? { idempotencyKey: cmd.idempotencyKey } : {}) };
  return { entry: { type: 'StatelessEventsReceived', stream: cmd.agent, actor: `agent:${cmd.agent}`, data, body: cmd.body } };
}

export function ingestStatelessEvents(deps: { db: Db; commit: GroupCommit }) {
  const findKey = deps.db.prepare<[string, string], { seq: number; events: number }>(
    'SELECT seq, events FROM idempotency_keys WHERE agent = ? AND key = ?',
  );
  const reportFacts = reportFactsIn(deps.db);
  return (agent: AgentId, body: Buffer, idempotencyKey?: string): Promise<StatelessAck> => {
    const { events, agentLine } = parseStatelessBody(body);
    return deps.commit.run((tx) => {
      const previous = idempotencyKey ? findKey.get(agent, idempotencyKey) : undefined;
      const decision = decideIngestStateless(previous, { agent, body, events, idempotencyKey });
      if ('replay' in decision) return decision.replay;
      const stored = tx.append(decision.entry);
      reportFacts(tx, agent, agentLine);
      return { batch: batchId(stored.seq), seq: stored.seq, events, durability: 'journaled' };
    });
  };
}
