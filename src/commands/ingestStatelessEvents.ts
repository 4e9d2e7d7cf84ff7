import { createHash } from 'node:crypto';
import type { Db } from '../journal/database.js';
import type { Entry } from '../journal/entries.js';
import type { GroupCommit, Tx } from '../journal/groupCommit.js';
import type { AgentId } from '../journal/ids.js';
import { checkAgentLine, isObject, type LineCheck, type NdjsonResult, parseNdjson, parseNdjsonYielding } from '../ndjson.js';
import { StatusError } from '../errors.js';
import { reportFactsIn } from './reportAgentFacts.js';

export class InvalidBatchError extends StatusError {
  readonly status = 400;
  override readonly problem: Record<string, unknown>;
  constructor(readonly line: number, readonly reason: string) {
    super(`line ${line}: ${reason}`);
    this.problem = { errors: [{ line, message: reason }] };
  }
}

export interface StatelessAck {
  batch: string;
  seq: number;
  events: number;
  durability: 'journaled';
}

/** A stateless body's lines: agent line, then header `{module, collector}` + data object pairs; keeps the agent line. */
function statelessChecker(): { check: LineCheck; agentLine: () => unknown } {
  let agentLine: unknown;
  const check: LineCheck = (v, i) => {
    if (i === 0) {
      agentLine = v;
      return checkAgentLine(v);
    }
    if (!isObject(v)) return i % 2 === 1 ? 'a header must be a JSON object' : 'an event must be a JSON object';
    if (i % 2 === 1 && (typeof v.module !== 'string' || typeof v.collector !== 'string')) {
      return 'a header needs string "module" and "collector"';
    }
    return null;
  };
  return { check, agentLine: () => agentLine };
}

function eventCount(parsed: NdjsonResult): number {
  if (!parsed.ok) throw new InvalidBatchError(parsed.line, parsed.reason);
  const n = parsed.lines;
  if (n < 3) throw new InvalidBatchError(n + 1, 'a batch needs the agent line and at least one event');
  if (n % 2 === 0) throw new InvalidBatchError(n + 1, 'the last header has no event line');
  return (n - 1) / 2;
}

/** Validates a stateless body; returns its number of events. */
export const validateStatelessBody = (body: Buffer): number => eventCount(parseNdjson(body, statelessChecker().check));

/** What a batch's checks found, before its turn to be written: its events, its agent line, the digest an Idempotency-Key remembers. */
export interface CheckedBatch {
  events: number;
  agentLine: unknown;
  /** sha256 (hex) of the body; '' without an Idempotency-Key. */
  bodySha256: string;
}

const digest = (body: Buffer, idempotencyKey: string | undefined): string =>
  idempotencyKey ? createHash('sha256').update(body).digest('hex') : '';

/** Checks a body at once (a worker thread's check). */
export function checkStatelessBody(body: Buffer, idempotencyKey?: string): CheckedBatch {
  const c = statelessChecker();
  const events = eventCount(parseNdjson(body, c.check));
  return { events, agentLine: c.agentLine(), bodySha256: digest(body, idempotencyKey) };
}

/** Checks a body in slices that leave the event loop free between them. */
export async function checkStatelessBodyYielding(body: Buffer, idempotencyKey?: string): Promise<CheckedBatch> {
  const c = statelessChecker();
  const events = eventCount(await parseNdjsonYielding(body, c.check));
  return { events, agentLine: c.agentLine(), bodySha256: digest(body, idempotencyKey) };
}

export const batchId = (seq: number): string => `stateless-${seq}`;

/** An Idempotency-Key already used for a batch with other bytes (422). */
export class IdempotencyKeyReusedError extends StatusError {
  readonly status = 422;
  override readonly problem: Record<string, unknown>;
  constructor(readonly key: string, readonly seq: number) {
    super(`Idempotency-Key "${key}" was used for another body (batch stateless-${seq}); use a new key for new events`);
    this.problem = { batch: `stateless-${seq}` };
  }
}

export interface PreviousBatch {
  seq: number;
  events: number;
  /** null for keys remembered before digests were kept (they match any body). */
  body_sha256: string | null;
}

/**
 * Pure decision: a batch seen before under the same Idempotency-Key is answered again, not
 * journaled, when its body is the same bytes; another body under that key is refused.
 */
export function decideIngestStateless(
  previous: PreviousBatch | undefined,
  cmd: { agent: AgentId; body: Buffer; bodySha256: string; events: number; idempotencyKey?: string | undefined },
): { replay: StatelessAck } | { entry: Entry } {
  if (previous && cmd.idempotencyKey) {
    if (previous.body_sha256 !== null && previous.body_sha256 !== cmd.bodySha256) throw new IdempotencyKeyReusedError(cmd.idempotencyKey, previous.seq);
    return { replay: { batch: batchId(previous.seq), seq: previous.seq, events: previous.events, durability: 'journaled' } };
  }
  const data = {
    agent: cmd.agent,
    events: cmd.events,
    ...(cmd.idempotencyKey ? { idempotencyKey: cmd.idempotencyKey, bodySha256: cmd.bodySha256 } : {}),
  };
  return { entry: { type: 'StatelessEventsReceived', stream: cmd.agent, actor: `agent:${cmd.agent}`, data, body: cmd.body } };
}

/** A checked batch's unit of work in the group transaction (on whichever connection writes it). */
export function statelessBatchWriter(db: Db) {
  const findKey = db.prepare<[string, string], PreviousBatch>('SELECT seq, events, body_sha256 FROM idempotency_keys WHERE agent = ? AND key = ?');
  const reportFacts = reportFactsIn(db);
  return (tx: Tx, agent: AgentId, body: Buffer, checked: CheckedBatch, idempotencyKey?: string): StatelessAck => {
    const previous = idempotencyKey ? findKey.get(agent, idempotencyKey) : undefined;
    const { events, bodySha256 } = checked;
    const decision = decideIngestStateless(previous, { agent, body, bodySha256, events, idempotencyKey });
    if ('replay' in decision) return decision.replay;
    const stored = tx.append(decision.entry);
    reportFacts(tx, agent, checked.agentLine);
    return { batch: batchId(stored.seq), seq: stored.seq, events, durability: 'journaled' };
  };
}

export type IngestStateless = (agent: AgentId, body: Buffer, idempotencyKey?: string) => Promise<StatelessAck>;

/** Checks done elsewhere (a worker thread): the result, and the body moved back. */
export interface BodyCheck {
  minBytes: number;
  /** Whether `check` can be called now (else the body is checked here). */
  ready(): boolean;
  check(body: Buffer, idempotencyKey?: string): Promise<{ checked: CheckedBatch; body: Buffer }>;
}

/**
 * Ingests a batch, written by the group commit: checked on this thread (in slices), or, from
 * `check.minBytes` on, in the checker's thread; a body of `offload.minBytes` or more is handed to
 * `offload` instead (checked and written in a worker thread).
 */
export function ingestStatelessEvents(deps: {
  db: Db;
  commit: GroupCommit;
  check?: BodyCheck | undefined;
  offload?: { minBytes: number; ingest: IngestStateless } | undefined;
}): IngestStateless {
  const write = statelessBatchWriter(deps.db);
  return async (agent, received, idempotencyKey) => {
    if (deps.offload && received.length >= deps.offload.minBytes) return deps.offload.ingest(agent, received, idempotencyKey);
    if (!deps.check || received.length < deps.check.minBytes || !deps.check.ready()) {
      const checked = await checkStatelessBodyYielding(received, idempotencyKey);
      return deps.commit.run((tx) => write(tx, agent, received, checked, idempotencyKey));
    }
    // checked elsewhere: the commit waits a little for it, so bodies checked together share an fsync
    const release = deps.commit.hold();
    try {
      const { checked, body } = await deps.check.check(received, idempotencyKey);
      const written = deps.commit.run((tx) => write(tx, agent, body, checked, idempotencyKey));
      release(); // after the job is queued: the commit it waited for takes it
      return await written;
    } finally {
      release();
    }
  };
}
