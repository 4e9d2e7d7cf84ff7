import type { Context } from 'koa';
import type { z } from 'zod';
import { HttpError } from './problem.js';

/** Checks the media type (parameters such as charset are ignored). */
export function requireContentType(ctx: Context, types: readonly string[]): void {
  const type = (ctx.get('Content-Type').split(';')[0] ?? '').trim().toLowerCase();
  if (!types.includes(type)) {
    throw new HttpError(415, 'Unsupported Media Type', `Content-Type must be ${types.join(' or ')}`);
  }
}

/** Reads the whole body, refusing it (413) as soon as it passes `limit` bytes. */
export async function readBody(ctx: Context, limit: number): Promise<Buffer> {
  const declared = Number(ctx.get('Content-Length') || NaN);
  const tooLarge = () => {
    ctx.set('Connection', 'close');
    return new HttpError(413, 'Content Too Large', `the body is limited to ${limit} bytes`);
  };
  if (declared > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge();
    chunks.push(chunk);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
}

/** Reads and validates a JSON body with a zod schema (400 naming the field). */
export async function readJson<S extends z.ZodType>(ctx: Context, schema: S, limit = 1024 * 1024): Promise<z.infer<S>> {
  requireContentType(ctx, ['application/json']);
  const body = await readBody(ctx, limit);
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpError(400, 'Bad Request', 'the body is not valid JSON');
  }
  return schema.parse(value);
}
