import { Readable } from 'node:stream';
import type { Context } from 'koa';

/**
 * Answers every item of a paged query as NDJSON (one JSON object a line), reading one page at a
 * time as the client reads: an export of the whole trail never sits in memory.
 */
export function sendNdjson<T>(ctx: Context, page: (cursor: string | undefined) => { items: T[]; next_cursor: string | null }, first?: string): void {
  let cursor = first;
  let done = false;
  ctx.type = 'application/x-ndjson';
  ctx.body = Readable.from(
    (function* lines() {
      while (!done) {
        const p = page(cursor);
        if (p.items.length > 0) yield p.items.map((i) => JSON.stringify(i)).join('\n') + '\n';
        if (p.next_cursor === null) done = true;
        else cursor = p.next_cursor;
      }
    })(),
  );
}
