import { createHash } from 'node:crypto';

export const GENESIS = Buffer.alloc(32);

export interface HashedFields {
  seq: number;
  type: string;
  stream: string;
  time: number;
  actor: string;
  data: string;
  body: Buffer | null | undefined;
}

const SEP = Buffer.from([0]);

/** hash = sha256(prev_hash ‖ seq ‖ type ‖ stream ‖ time ‖ actor ‖ data ‖ body), fields NUL-separated. */
export function chainHash(prev: Buffer, e: HashedFields): Buffer {
  const h = createHash('sha256');
  h.update(prev);
  h.update(`${e.seq}\0${e.type}\0${e.stream}\0${e.time}\0${e.actor}\0`);
  h.update(e.data);
  h.update(SEP);
  if (e.body) h.update(e.body);
  return h.digest();
}
