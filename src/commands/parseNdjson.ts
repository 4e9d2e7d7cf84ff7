import { isUtf8 } from 'node:buffer';
import { depthMessage, describePath, jsonDepthViolation } from './jsonDepth.js';

/**
 * Splits an NDJSON body into lines without copying the bytes: a single trailing newline is
 * allowed, empty lines are not. Each line is parsed as JSON; `check` validates it in context.
 * The first failure is returned with its 1-based line number.
 */
export type LineCheck = (value: unknown, index: number) => string | null;

export type NdjsonResult<T> = { ok: true; lines: T[] } | { ok: false; line: number; reason: string };

/**
 * The parser as a generator: it parses lines until `sliceMs` have passed, then yields, and
 * returns the result. Decodes once (the body must be valid UTF-8), then parses each line from a
 * string slice, after checking its nesting (MAX_JSON_DEPTH) in one pass without recursion.
 */
function* ndjsonSlices(body: Buffer, check: LineCheck, sliceMs: number): Generator<void, NdjsonResult<unknown>> {
  if (!isUtf8(body)) return { ok: false, line: firstBadUtf8Line(body), reason: 'not valid UTF-8' };
  const text = body.toString('utf8');
  const lines: unknown[] = [];
  const end = text.endsWith('\n') ? text.length - 1 : text.length;
  if (end === 0) return { ok: false, line: 1, reason: 'empty body' };
  let start = 0;
  let sliceStart = performance.now();
  while (start <= end) {
    if ((lines.length & 255) === 255 && performance.now() - sliceStart > sliceMs) {
      yield;
      sliceStart = performance.now();
    }
    let nl = text.indexOf('\n', start);
    if (nl === -1 || nl > end) nl = end;
    const stop = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
    const n = lines.length + 1;
    if (stop === start) return { ok: false, line: n, reason: 'empty line' };
    const tooDeep = jsonDepthViolation(text, start, stop);
    if (tooDeep) return { ok: false, line: n, reason: `${depthMessage} (at ${describePath(tooDeep)})` };
    let value: unknown;
    try {
      value = JSON.parse(text.slice(start, stop));
    } catch {
      return { ok: false, line: n, reason: 'not valid JSON' };
    }
    const problem = check(value, n - 1);
    if (problem) return { ok: false, line: n, reason: problem };
    lines.push(value);
    start = nl + 1;
  }
  return { ok: true, lines };
}

/** Parses the whole body at once (small bodies, tests). */
export function parseNdjson(body: Buffer, check: LineCheck): NdjsonResult<unknown> {
  const steps = ndjsonSlices(body, check, Number.POSITIVE_INFINITY);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/** Longest the parser holds the event loop before it lets other work run (a large batch is parsed in slices). */
export const PARSE_SLICE_MS = 10;

/** Parses a request body in slices of at most ~`sliceMs`, yielding to the event loop between them. */
export async function parseNdjsonYielding(body: Buffer, check: LineCheck, sliceMs = PARSE_SLICE_MS): Promise<NdjsonResult<unknown>> {
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
