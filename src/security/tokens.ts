import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import { z } from 'zod';

/** `metrics` is only ever an API key's role: it can scrape GET /metrics and nothing else. */
export const Role = z.enum(['agent', 'operator', 'auditor', 'metrics']);
export type Role = z.infer<typeof Role>;

/**
 * `iat` is in whole seconds (RFC 7519); `iat_ms` is the issue time in milliseconds, so a revocation
 * (an agent deleted at millisecond t) refuses exactly the tokens issued at or before t. Tokens
 * without `iat_ms` (issued before it existed) count as issued at the start of their second.
 */
export const Claims = z.object({ sub: z.string().min(1), role: Role, exp: z.number(), iat: z.number(), iat_ms: z.number().int().optional() });
export type Claims = z.infer<typeof Claims>;

export const issuedAtMs = (c: Claims): number => c.iat_ms ?? c.iat * 1000;

export interface SigningKeys {
  privateKey: string;
  publicKey: string;
}

/** The token key pair: configured PEM files, or an ECDSA P-256 pair generated into the data folder once. */
export function loadSigningKeys(dataDir: string, privatePath?: string, publicPath?: string): SigningKeys {
  if (privatePath && publicPath) {
    return { privateKey: readFileSync(privatePath, 'utf8'), publicKey: readFileSync(publicPath, 'utf8') };
  }
  const dir = join(dataDir, 'keys');
  const priv = join(dir, 'jwt-private.pem');
  const pub = join(dir, 'jwt-public.pem');
  if (!existsSync(priv) || !existsSync(pub)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeAtomically(priv, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString());
    writeAtomically(pub, pair.publicKey.export({ type: 'spki', format: 'pem' }).toString());
  }
  return { privateKey: readFileSync(priv, 'utf8'), publicKey: readFileSync(pub, 'utf8') };
}

function writeAtomically(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, path);
}

export const TOKEN_ALGORITHM = 'ES256' as const;

export function createTokenIssuer(keys: SigningKeys, ttlSeconds: number, now: () => number = Date.now) {
  return (sub: string, role: Role): { token: string; expires_at: string } => {
    const iatMs = now();
    const iat = Math.floor(iatMs / 1000);
    const exp = iat + ttlSeconds;
    const token = jwt.sign({ sub, role, iat, iat_ms: iatMs, exp }, keys.privateKey, { algorithm: TOKEN_ALGORITHM });
    return { token, expires_at: new Date(exp * 1000).toISOString() };
  };
}
export type TokenIssuer = ReturnType<typeof createTokenIssuer>;
