// Strict parser for the engine's `POST /events/stateless` body, as the real engine reads it:
//   line 1        {"agent":{"id":"…", …}}                  agent metadata, agent.id a string
//   then pairs    {"module":"…","collector":"…"}             header, both strings
//                 {…}                                       data line, a JSON object
// At least three lines, no empty line, every line valid JSON, valid UTF-8; one trailing
// newline is allowed. The data lines are kept as the exact text the client sent.
import { isUtf8 } from 'node:buffer';

/** The `code` of a 400/413/415 answer; stable, tests may assert on them. */
export const EngineErrorCode = {
  TooFewLines: 1,
  EmptyLine: 2,
  InvalidJson: 3,
  InvalidAgent: 4,
  InvalidHeader: 5,
  InvalidData: 6,
  MissingData: 7,
  InvalidUtf8: 8,
  UnsupportedContentType: 10,
  BodyTooLarge: 11,
  NotFound: 20,
  MethodNotAllowed: 21,
  SimulatedServerError: 90,
  SimulatedRejection: 91,
} as const;
export type EngineErrorCode = (typeof EngineErrorCode)[keyof typeof EngineErrorCode];

export interface ParsedEvent {
  module: string;
  collector: string;
  /** The data line exactly as sent (without its newline). */
  data: string;
}

export type ParseResult =
  | { ok: true; agentId: string; events: ParsedEvent[] }
  | { ok: false; error: string; code: EngineErrorCode };

type LineResult = { ok: true; value: unknown } | { ok: false; error: string; code: EngineErrorCode };

const fail = (code: EngineErrorCode, error: string) => ({ ok: false as const, error, code });

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseLine(line: string | undefined, n: number): LineResult {
  if (line === undefined || line === '') return fail(EngineErrorCode.EmptyLine, `line ${n} is empty`);
  try {
    return { ok: true, value: JSON.parse(line) };
  } catch (err) {
    return fail(EngineErrorCode.InvalidJson, `line ${n} is not valid JSON: ${(err as Error).message}`);
  }
}

function splitLines(body: Buffer): string[] {
  const lines = body.toString('utf8').split('\n');
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

export function parseStatelessBody(body: Buffer): ParseResult {
  if (!isUtf8(body)) return fail(EngineErrorCode.InvalidUtf8, 'body is not valid UTF-8');
  const lines = splitLines(body);
  if (lines.length < 3) {
    return fail(EngineErrorCode.TooFewLines, `expected at least 3 lines (agent, header, data), got ${lines.length}`);
  }
  const meta = parseLine(lines[0], 1);
  if (!meta.ok) return meta;
  const agent = isObject(meta.value) ? meta.value['agent'] : undefined;
  if (!isObject(agent) || typeof agent['id'] !== 'string') {
    return fail(EngineErrorCode.InvalidAgent, 'line 1 must be {"agent":{"id":string,…}}');
  }
  const events: ParsedEvent[] = [];
  for (let i = 1; i < lines.length; i += 2) {
    const header = parseLine(lines[i], i + 1);
    if (!header.ok) return header;
    const h = header.value;
    if (!isObject(h) || typeof h['module'] !== 'string' || typeof h['collector'] !== 'string') {
      return fail(EngineErrorCode.InvalidHeader, `line ${i + 1}: header needs string "module" and "collector"`);
    }
    const dataLine = lines[i + 1];
    if (dataLine === undefined) return fail(EngineErrorCode.MissingData, `line ${i + 1}: header has no data line`);
    const data = parseLine(dataLine, i + 2);
    if (!data.ok) return data;
    if (!isObject(data.value)) return fail(EngineErrorCode.InvalidData, `line ${i + 2}: data must be a JSON object`);
    events.push({ module: h['module'], collector: h['collector'], data: dataLine });
  }
  return { ok: true, agentId: agent['id'], events };
}
