import type { JournalRow } from '../journal/readEntries.js';
import type { EngineClient } from '../engine/engineClient.js';
import { bodyLength, engineBody, engineItem, toEngineRow, type EngineRow } from './engineFormat.js';
import type { Sink, Unit } from './pullPipeline.js';

export interface EngineUnit extends Unit {
  rows: EngineRow[];
  /** A row that cannot be put in the engine's format: dead-lettered as it is. */
  unreadable?: { reason: string; body: string };
}

export interface EngineBatchLimits {
  /** Events per request at most (a single larger row still goes alone). */
  events: number;
  /** Body bytes per request at most (likewise). */
  bytes: number;
}

/**
 * Groups stateless rows of the same agent into requests, bounded by events and bytes: the engine's
 * format has one agent line per request. `byAgent: false` (replays: exactly the journal order)
 * groups only consecutive rows of one agent. `byAgent: true` (the live pipeline) groups each
 * agent's rows of the page together, in journal order per agent, units ordered by their first row:
 * with many agents sending small batches, a page of interleaved rows would otherwise be one
 * request per row. Units then cover interleaved seqs; the pull pipeline's checkpoint only passes a
 * row once every unit holding an earlier row is acknowledged.
 */
export function planEngineBatches(rows: readonly JournalRow[], limits: EngineBatchLimits, opts: { byAgent?: boolean } = {}): EngineUnit[] {
  const units: EngineUnit[] = [];
  type Open = { unit: EngineUnit; bytes: number };
  const sameAgent = (o: Open | null, agent: string): Open | undefined => (o && o.unit.rows[0]!.agent === agent ? o : undefined);
  const open = new Map<string, Open>();
  let last: Open | null = null;
  for (const row of rows) {
    if (row.type !== 'StatelessEventsReceived') continue;
    let r: EngineRow;
    try {
      r = toEngineRow(row);
    } catch (err) {
      const body = (row.body ?? Buffer.alloc(0)).toString('base64');
      units.push({ firstSeq: row.seq, lastSeq: row.seq, events: 0, rows: [], unreadable: { reason: `unreadable journal row: ${(err as Error).message}`, body } });
      last = null;
      continue;
    }
    const size = r.eventLines.length;
    const current: Open | undefined = opts.byAgent ? open.get(r.agent) : sameAgent(last as Open | null, r.agent);
    if (current && current.unit.events + r.events <= limits.events && current.bytes + size <= limits.bytes) {
      current.unit.rows.push(r);
      current.unit.events += r.events;
      current.unit.lastSeq = r.seq;
      current.bytes += size;
      last = current;
    } else {
      last = { unit: { firstSeq: r.seq, lastSeq: r.seq, events: r.events, rows: [r] }, bytes: r.agentLine.length + size };
      units.push(last.unit);
      open.set(r.agent, last);
    }
  }
  return units;
}

/** The engine sink: `POST /events/stateless`; a 400 dead-letters the request, anything else retryable retries. */
export function createEngineSink(opts: { client: EngineClient; limits?: EngineBatchLimits }): Sink<EngineUnit> {
  const limits = opts.limits ?? { events: 5000, bytes: 4 * 1024 * 1024 };
  return {
    name: 'engine',
    types: ['StatelessEventsReceived'],
    plan: (rows) => planEngineBatches(rows, limits, { byAgent: true }),
    async deliver(unit) {
      if (unit.unreadable) {
        const item = JSON.stringify({ seqs: [unit.firstSeq], ndjson_base64: unit.unreadable.body });
        return { ok: true, poison: [{ seq: unit.firstSeq, item, reason: unit.unreadable.reason }] };
      }
      const parts = engineBody(unit.rows);
      const r = await opts.client.send(parts);
      if (r.ok) return { ok: true };
      if (r.retryable) return { ok: false, reason: r.reason, rest: unit };
      const item = engineItem(unit.rows);
      return { ok: true, poison: [{ seq: unit.firstSeq, item: JSON.stringify(item), reason: `${r.reason} (${bodyLength(parts)} bytes)` }] };
    },
  };
}
