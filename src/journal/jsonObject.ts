import { z } from 'zod';

/**
 * A JSON object passed through exactly as parsed. zod's `record` and `object` schemas build a
 * new object by assignment, and assigning a `"__proto__"` key sets the prototype instead: the key
 * would vanish silently. Keys such as `__proto__`, `constructor` and `prototype` stay plain data.
 */
export const JsonObject = z
  .unknown()
  .refine((v) => typeof v === 'object' && v !== null && !Array.isArray(v), { message: 'expected a JSON object' })
  .meta({ type: 'object' }) as unknown as z.ZodType<Record<string, unknown>>;
