import { createHash } from 'node:crypto';

/** JSON with object keys sorted at every level: equal values give equal bytes. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]]));
    }
    return v;
  });
}

/** A strong entity tag derived from the content: `"<sha256 of the canonical JSON, hex>"`. */
export function contentEtag(value: unknown): string {
  return `"${createHash('sha256').update(canonicalJson(value)).digest('hex')}"`;
}

/** Longest If-Match / If-None-Match list considered (a longer one matches nothing). */
const MAX_ETAG_LIST = 8192;

/**
 * The entity tags of an If-Match / If-None-Match header; `*` stays `*`. One left-to-right scan
 * (linear time, no regular expression): `W/"…"`, `"…"` or `*`, separated by commas and spaces;
 * the list stops at the first malformed member.
 */
export function parseEtagList(header: string): string[] {
  const out: string[] = [];
  if (header.length > MAX_ETAG_LIST) return out;
  const n = header.length;
  let i = 0;
  const skip = () => {
    while (i < n && (header[i] === ' ' || header[i] === '\t' || header[i] === ',')) i++;
  };
  for (skip(); i < n; skip()) {
    if (header[i] === '*') {
      i++;
      while (i < n && (header[i] === ' ' || header[i] === '\t')) i++;
      if (i < n && header[i] !== ',') return out;
      out.push('*');
      continue;
    }
    const start = i;
    if (header.startsWith('W/', i)) i += 2;
    if (header[i] !== '"') return out;
    const close = header.indexOf('"', i + 1);
    if (close < 0) return out;
    i = close + 1;
    while (i < n && (header[i] === ' ' || header[i] === '\t')) i++;
    if (i < n && header[i] !== ',') return out;
    out.push(header.slice(start, close + 1));
  }
  return out;
}

/** If-Match uses the strong comparison: a weak tag never matches. `exists` answers `*`. */
export function ifMatchSatisfied(header: string, current: string, exists: boolean): boolean {
  return parseEtagList(header).some((t) => (t === '*' ? exists : !t.startsWith('W/') && t === current));
}

/** If-None-Match uses the weak comparison: true when the client's copy is current (→ 304). */
export function ifNoneMatchHit(header: string, current: string): boolean {
  const bare = (t: string) => (t.startsWith('W/') ? t.slice(2) : t);
  return parseEtagList(header).some((t) => t === '*' || bare(t) === bare(current));
}
