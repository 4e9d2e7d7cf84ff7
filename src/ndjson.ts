import { isUtf8 } from 'node:buffer';
import { depthMessage, describePath, jsonDepthViolation } from './jsonDepth.js';

/**
 * Splits an NDJSON body into lines without copying the bytes: a single trailing newline is
 * allowed, empty lines are not. Each line is parsed as JSON; `check` validates it in context.
 * The first failure is returned with its 1-based line number.
 */
export type LineCheck = (value: unknown, index: number) => string | null;

/** `lines` is how many lines were parsed; `check` keeps the values it needs (most batches keep none). */
export type NdjsonResult = { ok: true; lines: number } | { ok: false; line: number; reason: string };

/**
 * The parser as a generator: it parses lines until `sliceMs` have passed, then yields, and
 * returns the result. The body must be valid UTF-8; each line is decoded and parsed on its own,
 * after checking its nesting (MAX_JSON_DEPTH) in one pass without recursion.
 */
function* ndjsonSlices(body: Buffer, check: LineCheck, sliceMs: number): Generator<void, NdjsonResult> {
  if (!isUtf8(body)) return { ok: false, line: firstBadUtf8Line(body), reason: 'not valid UTF-8' };
  let lines = 0;
  // lines are decoded one by one: decoding 10 MiB at once would hold the loop by itself
  const end = body.length > 0 && body[body.length - 1] === 10 ? body.length - 1 : body.length;
  if (end === 0) return { ok: false, line: 1, reason: 'empty body' };
  let start = 0;
  let sliceStart = performance.now();
  let checkedAt = 0;
  while (start <= end) {
    // the clock is read every 256 lines or 64 KiB, whichever comes first (long lines make few of them)
    if ((lines & 255) === 255 || start - checkedAt > 65_536) {
      checkedAt = start;
      if (performance.now() - sliceStart > sliceMs) {
        yield;
        sliceStart = performance.now();
      }
    }
    let nl = body.indexOf(10, start);
    if (nl === -1 || nl > end) nl = end;
    const stop = nl > start && body[nl - 1] === 13 ? nl - 1 : nl;
    const n = lines + 1;
    if (stop === start) return { ok: false, line: n, reason: 'empty line' };
    const text = body.toString('utf8', start, stop);
    const tooDeep = jsonDepthViolation(text);
    if (tooDeep) return { ok: false, line: n, reason: `${depthMessage} (at ${describePath(tooDeep)})` };
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      return { ok: false, line: n, reason: 'not valid JSON' };
    }
    const problem = check(value, n - 1);
    if (problem) return { ok: false, line: n, reason: problem };
    lines += 1;
    start = nl + 1;
  }
  return { ok: true, lines };
}

/** Parses the whole body at once (small bodies, tests). */
export function parseNdjson(body: Buffer, check: LineCheck): NdjsonResult {
  const steps = ndjsonSlices(body, check, Number.POSITIVE_INFINITY);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/** Longest the parser holds the event loop before it lets other work run (a large batch is parsed in slices). */
export const PARSE_SLICE_MS = 10;

/** Parses a request body in slices of at most ~`sliceMs`, yielding to the event loop between them. */
export async function parseNdjsonYielding(body: Buffer, check: LineCheck, sliceMs = PARSE_SLICE_MS): Promise<NdjsonResult> {
  const steps = ndjsonSlices(body, check, sliceMs);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

function firstBadUtf8Line(body: Buffer): number {
  let line = 1;
  let start = 0;
  for (;;) {
    const nl = body.indexOf(10, start);
    const stop = nl === -1 ? body.length : nl;
    if (!isUtf8(body.subarray(start, stop))) return line;
    if (nl === -1) return line;
    line += 1;
    start = nl + 1;
  }
}

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The first line of every events body: `{"agent": {...}}`. */
export function checkAgentLine(v: unknown): string | null {
  if (!isObject(v) || !isObject(v.agent)) return 'the first line must be {"agent": {...}}';
  return null;
}
