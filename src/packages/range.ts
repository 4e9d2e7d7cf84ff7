import rangeParser from 'range-parser';

/** What a `Range` header asks of a representation of `size` bytes (RFC 9110 §14). */
export type RangeRequest =
  | { kind: 'full' }
  | { kind: 'partial'; start: number; end: number }
  | { kind: 'unsatisfiable' };

/** Longest Range header considered; a longer one is ignored (the whole file is sent). */
const MAX_RANGE_HEADER = 256;
const DIGITS = /^[0-9]*$/;

/**
 * Only single byte ranges are served: `bytes=a-b`, `bytes=a-`, `bytes=-n`. Headers in another
 * unit, malformed, or asking several ranges are ignored (the whole file is sent, as RFC 9110
 * allows); a well-formed range that starts past the end is unsatisfiable (416).
 * Linear time: the syntax is checked with indexOf/trim and anchored character-class tests (no
 * backtracking), the arithmetic is `range-parser`'s.
 */
export function parseRange(header: string | undefined, size: number): RangeRequest {
  if (!header || header.length > MAX_RANGE_HEADER) return { kind: 'full' };
  const eq = header.indexOf('=');
  if (eq < 0 || header.slice(0, eq).trim().toLowerCase() !== 'bytes') return { kind: 'full' };
  const spec = header.slice(eq + 1);
  const dash = spec.indexOf('-');
  if (dash < 0 || spec.indexOf('-', dash + 1) >= 0 || spec.includes(',')) return { kind: 'full' };
  const a = spec.slice(0, dash).trim();
  const b = spec.slice(dash + 1).trim();
  if (!DIGITS.test(a) || !DIGITS.test(b) || (a === '' && b === '')) return { kind: 'full' };
  if (a !== '' && b !== '' && (!Number.isSafeInteger(Number(a)) || Number(b) < Number(a))) return { kind: 'full' };
  if (size === 0 || (a === '' && Number(b) === 0)) return { kind: 'unsatisfiable' };
  // a suffix longer than the file is the whole file (range-parser would call it unsatisfiable)
  const parsed = rangeParser(size, a === '' ? `bytes=${Math.max(0, size - Number(b))}-` : `bytes=${a}-${b}`);
  if (parsed === -1) return { kind: 'unsatisfiable' };
  if (parsed === -2 || parsed.length !== 1) return { kind: 'full' };
  const { start, end } = parsed[0]!;
  return { kind: 'partial', start, end };
}
