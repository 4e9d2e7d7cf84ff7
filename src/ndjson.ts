import { isUtf8 } from 'node:buffer';
import { depthMessage, describePath, jsonDepthViolation, MAX_JSON_DEPTH } from './jsonDepth.js';

/**
 * Splits an NDJSON body into lines without copying the bytes: a single trailing newline is
 * allowed, empty lines are not. Each line is parsed as JSON; `check` validates it in context.
 * The first failure is returned with its 1-based line number.
 */
export type LineCheck = (value: unknown, index: number) => string | null;

/** `lines` is how many lines were parsed; `check` keeps the values it needs (most batches keep none). */
export type NdjsonResult = { ok: true; lines: number } | { ok: false; line: number; reason: string };

/** Bodies up to this size are decoded in one call; larger ones line by line (decoding 10 MiB at once would hold the loop by itself). */
const DECODE_AT_ONCE_BYTES = 1 << 20;

/** Where the next `{` and `[` are, at or after a position; lines are visited in order, so each is searched for once. */
function openerCursor(find: (char: '{' | '[', from: number) => number) {
  const at = (char: '{' | '[', from: number) => {
    const i = find(char, from);
    return i === -1 ? Number.POSITIVE_INFINITY : i;
  };
  let brace = at('{', 0);
  let bracket = at('[', 0);
  return {
    /**
     * Whether `[start, stop)` holds more than MAX_JSON_DEPTH opening brackets: only such a line can
     * nest too deep (a count that includes brackets inside strings errs on the safe side). Moves past `stop`.
     */
    manyIn(start: number, stop: number): boolean {
      let n = 0;
      while (brace < start) brace = at('{', brace + 1);
      while (bracket < start) bracket = at('[', bracket + 1);
      while (brace < stop && n <= MAX_JSON_DEPTH) (n += 1), (brace = at('{', brace + 1));
      while (bracket < stop && n <= MAX_JSON_DEPTH) (n += 1), (bracket = at('[', bracket + 1));
      return n > MAX_JSON_DEPTH;
    },
  };
}

/**
 * The parser as a generator: it parses lines until `sliceMs` have passed, then yields, and
 * returns the result. The body must be valid UTF-8; each line is parsed on its own. Only a line
 * with more than MAX_JSON_DEPTH opening brackets has its nesting checked (one pass without
 * recursion) before it is parsed.
 */
function* ndjsonSlices(body: Buffer, check: LineCheck, sliceMs: number): Generator<void, NdjsonResult> {
  if (!isUtf8(body)) return { ok: false, line: firstBadUtf8Line(body), reason: 'not valid UTF-8' };
  const size = body.length > 0 && body[body.length - 1] === 10 ? body.length - 1 : body.length;
  if (size === 0) return { ok: false, line: 1, reason: 'empty body' };
  // positions are string indices when the body is decoded at once, byte offsets otherwise
  const whole = size <= DECODE_AT_ONCE_BYTES ? body.toString('utf8', 0, size) : null;
  const end = whole === null ? size : whole.length;
  const newline = whole === null ? (from: number) => body.indexOf(10, from) : (from: number) => whole.indexOf('\n', from);
  const textOf = whole === null ? (a: number, b: number) => body.toString('utf8', a, b) : (a: number, b: number) => whole.slice(a, b);
  const isCr = whole === null ? (i: number) => body[i] === 13 : (i: number) => whole.charCodeAt(i) === 13;
  const openers = openerCursor(whole === null ? (c, from) => body.indexOf(c === '{' ? 0x7b : 0x5b, from) : (c, from) => whole.indexOf(c, from));
  let lines = 0;
  let start = 0;
  let sliceStart = performance.now();
  let checkedAt = 0;
  while (start <= end) {
    // the clock is read every 256 lines or 64 K characters, whichever comes first (long lines make few of them)
    if ((lines & 255) === 255 || start - checkedAt > 65_536) {
      checkedAt = start;
      if (performance.now() - sliceStart > sliceMs) {
        yield;
        sliceStart = performance.now();
      }
    }
    let nl = newline(start);
    if (nl === -1 || nl > end) nl = end;
    const stop = nl > start && isCr(nl - 1) ? nl - 1 : nl;
    const n = lines + 1;
    if (stop === start) return { ok: false, line: n, reason: 'empty line' };
    const text = textOf(start, stop);
    if (openers.manyIn(start, stop)) {
      const tooDeep = jsonDepthViolation(text);
      if (tooDeep) return { ok: false, line: n, reason: `${depthMessage} (at ${describePath(tooDeep)})` };
    }
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
