/**
 * The one nesting limit of client JSON (objects and arrays, the top level counting as 1), applied
 * before a body or line is parsed: agent lines, data lines, stateful items, command results,
 * group configurations, catalogue schemas, command args. Deeper input is 400; everything the
 * server keeps can then be serialised, merged and indexed without nearing a stack limit.
 */
export const MAX_JSON_DEPTH = 64;

const OPEN_OBJECT = 0x7b; // {
const OPEN_ARRAY = 0x5b; // [
const CLOSE_OBJECT = 0x7d; // }
const CLOSE_ARRAY = 0x5d; // ]
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;

/** The index just past the string whose opening quote is at `at` (or `end` if it is not closed). */
function skipString(text: string, at: number, end: number): number {
  let i = at + 1;
  for (;;) {
    const q = text.indexOf('"', i);
    if (q < 0 || q >= end) return end;
    let backslashes = 0;
    for (let j = q - 1; j > at && text.charCodeAt(j) === BACKSLASH; j--) backslashes++;
    if (backslashes % 2 === 0) return q + 1;
    i = q + 1;
  }
}

/**
 * One pass over `text[start, end)` (no recursion, no allocation per character): null when it
 * nests at most `max` levels, else the path to the first container beyond the limit (object
 * keys as written, array indices). Only the nesting is checked; JSON.parse judges the syntax.
 */
export function jsonDepthViolation(text: string, start = 0, end = text.length, max = MAX_JSON_DEPTH): Array<string | number> | null {
  const keys: Array<string | number> = [];
  const inObject: boolean[] = [];
  let expectKey = false;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const after = skipString(text, i, end);
      if (expectKey && inObject[inObject.length - 1]) {
        keys[keys.length - 1] = text.slice(i + 1, after - 1);
        expectKey = false;
      }
      i = after - 1;
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (inObject.length >= max) return keys.slice(0, max);
      inObject.push(c === OPEN_OBJECT);
      keys.push(c === OPEN_OBJECT ? '' : 0);
      expectKey = c === OPEN_OBJECT;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      inObject.pop();
      keys.pop();
      expectKey = false;
    } else if (c === COMMA && inObject.length > 0) {
      if (inObject[inObject.length - 1]) expectKey = true;
      else keys[keys.length - 1] = (keys[keys.length - 1] as number) + 1;
    }
  }
  return null;
}

/** A path for an error message: the first segments, then "…". */
export function describePath(path: ReadonlyArray<string | number>, prefix = ''): string {
  const shown = path.slice(0, 4).map(String).join('.');
  const full = prefix && shown ? `${prefix}.${shown}` : prefix || shown || '(body)';
  return path.length > 4 ? `${full}.…` : full;
}

export const depthMessage = `nested deeper than ${MAX_JSON_DEPTH} levels`;
