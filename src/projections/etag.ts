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

/** The entity tags of an If-Match / If-None-Match header; `*` stays `*`. */
export function parseEtagList(header: string): string[] {
  const out: string[] = [];
  const re = /\s*(\*|(?:W\/)?"[^"]*")\s*(?:,|$)/gy;
  let m: RegExpExecArray | null;
  while (re.lastIndex < header.length && (m = re.exec(header))) out.push(m[1]!);
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
