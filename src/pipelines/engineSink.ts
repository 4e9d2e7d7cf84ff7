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
 * Groups consecutive stateless rows of the same agent into requests, bounded by events and bytes:
 * the engine's format has one agent line per request.
 */
export function planEngineBatches(rows: readonly JournalRow[], limits: EngineBatchLimits): EngineUnit[] {
  const units: EngineUnit[] = [];
  let current: EngineUnit | null = null;
  let bytes = 0;
  for (const row of rows) {
    if (row.type !== 'StatelessEventsReceived') continue;
    let r: EngineRow;
    try {
      r = toEngineRow(row);
    } catch (err) {
      const body = (row.body ?? Buffer.alloc(0)).toString('base64');
      units.push({ firstSeq: row.seq, lastSeq: row.seq, events: 0, rows: [], unreadable: { reason: `unreadable journal row: ${(err as Error).message}`, body } });
      current = null;
      continue;
    }
    const size = r.eventLines.length;
    const fits =
      current !== null &&
      current.rows[0]!.agent === r.agent &&
      current.events + r.events <= limits.events &&
      bytes + size <= limits.bytes;
    if (fits && current) {
      current.rows.push(r);
      current.events += r.events;
      current.lastSeq = r.seq;
      bytes += size;
    } else {
      current = { firstSeq: r.seq, lastSeq: r.seq, events: r.events, rows: [r] };
      bytes = r.agentLine.length + size;
      units.push(current);
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
    plan: (rows) => planEngineBatches(rows, limits),
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
