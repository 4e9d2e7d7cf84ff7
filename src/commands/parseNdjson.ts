/**
 * Splits an NDJSON body into lines without copying the bytes: a single trailing newline is
 * allowed, empty lines are not. Each line is parsed as JSON; `check` validates it in context.
 * The first failure is returned with its 1-based line number.
 */
export type LineCheck = (value: unknown, index: number) => string | null;

export type NdjsonResult<T> = { ok: true; lines: T[] } | { ok: false; line: number; reason: string };

export function parseNdjson(body: Buffer, check: LineCheck): NdjsonResult<unknown> {
  const lines: unknown[] = [];
  let start = 0;
  const end = body.length > 0 && body[body.length - 1] === 10 ? body.length - 1 : body.length;
  if (end === 0) return { ok: false, line: 1, reason: 'empty body' };
  while (start <= end) {
    let nl = body.indexOf(10, start);
    if (nl === -1 || nl > end) nl = end;
    const stop = nl > start && body[nl - 1] === 13 ? nl - 1 : nl;
    const n = lines.length + 1;
    if (stop === start) return { ok: false, line: n, reason: 'empty line' };
    let value: unknown;
    try {
      value = JSON.parse(body.toString('utf8', start, stop));
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

export const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** The first line of every events body: `{"agent": {...}}`. */
export function checkAgentLine(v: unknown): string | null {
  if (!isObject(v) || !isObject(v.agent)) return 'the first line must be {"agent": {...}}';
  return null;
}
