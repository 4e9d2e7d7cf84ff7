import contentType from 'content-type';
import type { Context } from 'koa';
import type { z } from 'zod';
import { depthMessage, describePath, jsonDepthViolation } from '../../jsonDepth.js';
import { HttpError } from './problem.js';

/** Longest Content-Type header considered (a longer one is 415). */
const MAX_CONTENT_TYPE = 1024;

/**
 * The media type of a Content-Type header: `content-type` parses it (linear time); a header with
 * malformed parameters (`application/json;`) still names its type before the first `;`.
 */
function mediaType(header: string): string {
  if (!header || header.length > MAX_CONTENT_TYPE) return '';
  try {
    return contentType.parse(header).type;
  } catch {
    const semi = header.indexOf(';');
    return (semi < 0 ? header : header.slice(0, semi)).trim().toLowerCase();
  }
}

/** Checks the media type (parameters such as charset are ignored). */
export function requireContentType(ctx: Context, types: readonly string[]): void {
  const type = mediaType(ctx.get('Content-Type'));
  if (!types.includes(type)) {
    throw new HttpError(415, 'Unsupported Media Type', `Content-Type must be ${types.join(' or ')}`);
  }
}

/** Reads the whole body, refusing it (413) as soon as it passes `limit` bytes. */
export function readBody(ctx: Context, limit: number): Promise<Buffer> {
  const declared = Number(ctx.get('Content-Length') || NaN);
  const tooLarge = () => {
    ctx.set('Connection', 'close');
    return new HttpError(413, 'Content Too Large', `the body is limited to ${limit} bytes`);
  };
  if (declared > limit) return Promise.reject(tooLarge());
  // listeners, not `for await`: an async iterator costs more than a small body's whole handling
  const req = ctx.req;
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (err: Error | null) => {
      req.off('data', onData).off('end', onEnd).off('error', done).off('close', onClose);
      if (err) {
        // the rest of a refused body is not read; the connection closes after the answer
        req.pause();
        reject(err);
      } else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) done(tooLarge());
      else chunks.push(chunk);
    };
    const onEnd = () => done(null);
    const onClose = () => done(new HttpError(400, 'Bad Request', 'the request was aborted before its body was read'));
    if (req.readableEnded) return resolve(Buffer.alloc(0));
    req.on('data', onData).on('end', onEnd).on('error', done).on('close', onClose);
  });
}

/**
 * Reads and validates a JSON body with a zod schema (400 naming the field). The nesting is
 * checked first (MAX_JSON_DEPTH, 400 naming the path to the first container too deep).
 */
export async function readJson<S extends z.ZodType>(ctx: Context, schema: S, limit = 1024 * 1024): Promise<z.infer<S>> {
  requireContentType(ctx, ['application/json']);
  const body = await readBody(ctx, limit);
  const text = body.toString('utf8');
  const tooDeep = jsonDepthViolation(text);
  if (tooDeep) {
    const field = describePath(tooDeep);
    throw new HttpError(400, 'Bad Request', `${field}: ${depthMessage}`, { errors: [{ field, message: depthMessage }] });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'Bad Request', 'the body is not valid JSON');
  }
  return schema.parse(value);
}
