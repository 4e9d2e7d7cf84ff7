import { z } from 'zod';

/**
 * The one pagination shape of list routes: `?limit=` (1–1000, default 100) and `?cursor=` (the
 * previous page's `next_cursor`, opaque: the last key of that page, base64url-encoded); answers
 * carry `next_cursor`, null on the last page. Unknown query parameters are 400 (`.strict()`).
 */
export const PageCursor = z
  .string()
  .max(400)
  .regex(/^[A-Za-z0-9_-]*$/, 'not a cursor from this API (pass next_cursor as it was)')
  .transform((c) => Buffer.from(c, 'base64url').toString('utf8'));

export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  cursor: PageCursor.optional(),
});

export const encodeCursor = (key: string): string => Buffer.from(key, 'utf8').toString('base64url');

/** `rows` were read with `limit + 1`: the page and the cursor of the next one. */
export function pageOf<T>(rows: T[], limit: number, keyOf: (row: T) => string): { page: T[]; next_cursor: string | null } {
  const page = rows.slice(0, limit);
  const last = page[page.length - 1];
  return { page, next_cursor: rows.length > limit && last !== undefined ? encodeCursor(keyOf(last)) : null };
}
