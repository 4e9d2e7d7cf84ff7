import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';

/** A token signed with the server's own key but already expired. */
export function expiredToken(dataDir: string, sub: string, role: string): string {
  const key = readFileSync(join(dataDir, 'keys/jwt-private.pem'), 'utf8');
  const iat = Math.floor(Date.now() / 1000) - 3600;
  return jwt.sign({ sub, role, iat, exp: iat + 60 }, key, { algorithm: 'ES256' });
}

/** A well-formed token signed with somebody else's key. */
export function forgedToken(sub: string, role: string): string {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const iat = Math.floor(Date.now() / 1000);
  return jwt.sign({ sub, role, iat, exp: iat + 600 }, privateKey.export({ type: 'pkcs8', format: 'pem' }), { algorithm: 'ES256' });
}

/** An unsigned token (alg none). */
export function unsignedToken(sub: string, role: string): string {
  const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const iat = Math.floor(Date.now() / 1000);
  return `${enc({ alg: 'none', typ: 'JWT' })}.${enc({ sub, role, iat, exp: iat + 600 })}.`;
}
