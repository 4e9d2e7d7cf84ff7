import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, sign, verify, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The key that signs journal heads: Ed25519, kept outside the database — a PEM file named by
 * the configuration, or a pair generated once into `<data>/keys/journal-heads*.pem`.
 */
export interface HeadKey {
  /** null when only the public key is known (verification with an auditor's copy). */
  privateKey: KeyObject | null;
  publicKey: KeyObject;
  publicKeyPem: string;
  /** sha256 of the public key (SPKI DER), hex, first 32 characters. */
  keyId: string;
}

export const HEAD_KEY_FILE = 'journal-heads.pem';
export const HEAD_PUBLIC_KEY_FILE = 'journal-heads.pub.pem';
const NODE_ID_FILE = 'node-id';

function writePrivate(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, path);
}

export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 32);
}

export function publicHeadKey(pem: string): HeadKey {
  const publicKey = createPublicKey(pem);
  return { privateKey: null, publicKey, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(), keyId: keyIdOf(publicKey) };
}

function fromPrivatePem(pem: string): HeadKey {
  const privateKey = createPrivateKey(pem);
  return { ...publicHeadKey(createPublicKey(privateKey).export({ type: 'spki', format: 'pem' }).toString()), privateKey };
}

/** Loads the configured key, or the data folder's own one; `create` generates it on first use. */
export function loadHeadKey(dataDir: string, configuredPath: string | undefined, create: boolean): HeadKey | null {
  if (configuredPath) return fromPrivatePem(readFileSync(configuredPath, 'utf8'));
  const dir = join(dataDir, 'keys');
  const file = join(dir, HEAD_KEY_FILE);
  if (!existsSync(file)) {
    if (!create) return null;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const pair = generateKeyPairSync('ed25519');
    writePrivate(file, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    writeFileSync(join(dir, HEAD_PUBLIC_KEY_FILE), pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(), { mode: 0o644 });
  }
  return fromPrivatePem(readFileSync(file, 'utf8'));
}

/**
 * The node id: configured (and then remembered in `<data>/keys/node-id`, so CLI runs without the
 * setting agree), or a uuid generated once into that file.
 */
export function loadNodeId(dataDir: string, configured: string | undefined, create: boolean): string | null {
  const file = join(dataDir, 'keys', NODE_ID_FILE);
  const stored = existsSync(file) ? readFileSync(file, 'utf8').trim() : null;
  if (configured && stored === configured) return configured;
  if (!configured && (stored || !create)) return stored;
  if (!create && configured) return configured;
  mkdirSync(join(dataDir, 'keys'), { recursive: true, mode: 0o700 });
  const id = configured ?? randomUUID();
  writePrivate(file, `${id}\n`);
  return id;
}

export interface HeadFields {
  node: string;
  n: number;
  seq: number;
  /** hex */
  hash: string;
  /** ms since the epoch */
  time: number;
}

/** The exact bytes that are signed. */
export function headPayload(h: HeadFields): Buffer {
  return Buffer.from(`comms-api signed head v1\n${h.node}\n${h.n}\n${h.seq}\n${h.hash}\n${h.time}`, 'utf8');
}

export function signHead(key: HeadKey, h: HeadFields): Buffer {
  if (!key.privateKey) throw new Error('no private key to sign journal heads with');
  return sign(null, headPayload(h), key.privateKey);
}

export function headSignatureValid(publicKey: KeyObject, h: HeadFields, signature: Buffer): boolean {
  try {
    return verify(null, headPayload(h), publicKey, signature);
  } catch {
    return false;
  }
}
