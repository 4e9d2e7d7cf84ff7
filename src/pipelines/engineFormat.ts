import { isUtf8 } from 'node:buffer';
import type { JournalRow } from '../journal/readEntries.js';

const NL = Buffer.from('\n');

/** One stateless journal row in the engine's shape: its agent line, then its event lines as stored. */
export interface EngineRow {
  seq: number;
  agent: string;
  events: number;
  /** `{"agent":{…,"id":<agent>}}` + "\n": the stored first line with only `agent.id` set. */
  agentLine: Buffer;
  /** The header and data lines exactly as the agent sent them, ending with "\n". */
  eventLines: Buffer;
}

/** Reads a StatelessEventsReceived row; the body was validated when it was journaled. */
export function toEngineRow(row: JournalRow): EngineRow {
  const data = JSON.parse(row.data) as { agent: string; events: number };
  const body = row.body ?? Buffer.alloc(0);
  const nl = body.indexOf(10);
  const firstEnd = nl === -1 ? body.length : nl;
  const first = JSON.parse(body.toString('utf8', 0, firstEnd)) as { agent?: Record<string, unknown> };
  const agentLine = Buffer.from(`${JSON.stringify({ ...first, agent: { ...(first.agent ?? {}), id: data.agent } })}\n`);
  let eventLines = nl === -1 ? Buffer.alloc(0) : body.subarray(nl + 1);
  if (eventLines.length > 0 && eventLines[eventLines.length - 1] !== 10) eventLines = Buffer.concat([eventLines, NL]);
  return { seq: row.seq, agent: data.agent, events: data.events, agentLine, eventLines };
}

/**
 * The request body for a run of rows of ONE agent: the first row's agent line, then every row's
 * event lines, as a list of parts (the engine client writes them without concatenating).
 */
export function engineBody(rows: readonly EngineRow[]): Buffer[] {
  if (rows.length === 0) return [];
  return [rows[0]!.agentLine, ...rows.map((r) => r.eventLines)];
}

export const bodyLength = (parts: readonly Buffer[]): number => parts.reduce((n, p) => n + p.length, 0);

/** Dead-letter item of an engine request: what to send again, readable when it is text. */
export interface EngineItem {
  seqs: number[];
  agent: string;
  events: number;
  ndjson?: string;
  ndjson_base64?: string;
}

export function engineItem(rows: readonly EngineRow[]): EngineItem {
  const body = Buffer.concat(engineBody(rows));
  const base = { seqs: rows.map((r) => r.seq), agent: rows[0]?.agent ?? '', events: rows.reduce((n, r) => n + r.events, 0) };
  return isUtf8(body) ? { ...base, ndjson: body.toString('utf8') } : { ...base, ndjson_base64: body.toString('base64') };
}

export function engineItemBody(item: EngineItem): Buffer {
  return item.ndjson !== undefined ? Buffer.from(item.ndjson, 'utf8') : Buffer.from(item.ndjson_base64 ?? '', 'base64');
}
