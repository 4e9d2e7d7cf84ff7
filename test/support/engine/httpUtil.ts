// Small HTTP helpers shared by the reference engine's two servers.
import type { IncomingMessage, ServerResponse } from 'node:http';

export type BodyResult = { ok: true; body: Buffer } | { ok: false; tooLarge: true; bytes: number };

/** Reads the whole request body; past `maxBytes` it keeps draining but drops the data. */
export function readBody(req: IncomingMessage, maxBytes: number, done: (r: BodyResult) => void): void {
  const chunks: Buffer[] = [];
  let bytes = 0;
  req.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes <= maxBytes) chunks.push(chunk);
  });
  req.on('end', () => {
    if (bytes > maxBytes) done({ ok: false, tooLarge: true, bytes });
    else done({ ok: true, body: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, bytes) });
  });
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const text = JSON.stringify(value);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}
