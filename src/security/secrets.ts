import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { createHashQueue, poolShare, type HashQueueOptions } from './hashQueue.js';

/**
 * scrypt parameters (N=2^14, r=8, p=1): interactive-login cost, run on libuv's pool, off the event
 * loop, through one bounded queue (hashQueue.ts) so that file I/O keeps threads of the pool.
 */
const N = 16384;
const R = 8;
const P = 1;
const LEN = 32;

let queue = createHashQueue({ concurrency: poolShare(2), maxQueued: 64 });

/** Sets the slow hashes' queue (at start-up): `concurrency` is kept below libuv's pool size. */
export function configureSecretHashing(opts: HashQueueOptions): void {
  queue = createHashQueue({ concurrency: poolShare(opts.concurrency), maxQueued: opts.maxQueued });
}

/** Rejects with HashQueueFullError when the queue is full. */
function derive(secret: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return queue.run(
    () =>
      new Promise<Buffer>((resolve, reject) =>
        scrypt(secret, salt, LEN, { N: n, r, p, maxmem: 64 * 1024 * 1024 }, (err, key) => (err ? reject(err) : resolve(key))),
      ),
  );
}

/** A salted slow hash, self-describing: `scrypt$N$r$p$salt$hash` (base64). */
export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(secret, salt, N, R, P);
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !n || !r || !p || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const key = await derive(secret, Buffer.from(salt, 'base64'), Number(n), Number(r), Number(p));
  return key.length === expected.length && timingSafeEqual(key, expected);
}

/**
 * A dummy hash to verify against when the principal is unknown, so neither timing nor cost tells:
 * the same parameters as every stored hash, through the same queue.
 */
export const UNKNOWN_PRINCIPAL_HASH = `scrypt$${N}$${R}$${P}$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=`;
