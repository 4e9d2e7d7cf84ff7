import { isUtf8 } from 'node:buffer';

/**
 * Splits an NDJSON body into lines without copying the bytes: a single trailing newline is
 * allowed, empty lines are not. Each line is parsed as JSON; `check` validates it in context.
 * The first failure is returned with its 1-based line number.
 */
export type LineCheck = (value: unknown, index: number) => string | null;

export type NdjsonResult<T> = { ok: true; lines: T[] } | { ok: false; line: number; reason: string };

/** Decodes once (the body must be valid UTF-8), then parses each line from a string slice. */
export function parseNdjson(body: Buffer, check: LineCheck): NdjsonResult<unknown> {
  if (!isUtf8(body)) return { ok: false, line: firstBadUtf8Line(body), reason: 'not valid UTF-8' };
  const text = body.toString('utf8');
  const lines: unknown[] = [];
  const end = text.endsWith('\n') ? text.length - 1 : text.length;
  if (end === 0) return { ok: false, line: 1, reason: 'empty body' };
  let start = 0;
  while (start <= end) {
    let nl = text.indexOf('\n', start);
    if (nl === -1 || nl > end) nl = end;
    const stop = nl > start && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
    const n = lines.length + 1;
    if (stop === start) return { ok: false, line: n, reason: 'empty line' };
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
