/**
 * The login baseline: raw node:https with the server's own TLS pair, `POST /login {uuid, key}`
 * answered with an ES256 JWT after the essentials only — JSON.parse, a Map lookup, HMAC-SHA-256
 * of the key compared in constant time, jsonwebtoken's sign with a parsed key. No framework, no
 * database, no throttle. Run: node --import tsx bench/baseline/loginBaseline.ts TLS_DIR KEY PREFIX N
 */
import { createHmac, createPrivateKey, generateKeyPairSync, randomBytes, timingSafeEqual } from 'node:crypto';
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';

const [dir, key, prefix, n] = process.argv.slice(2) as [string, string, string, string];
const secret = randomBytes(32);
const mac = (k: string) => createHmac('sha256', secret).update(k).digest();
const stored = new Map<string, Buffer>();
for (let i = 0; i < Number(n); i++) stored.set(`${prefix}${String(i).padStart(6, '0')}`, mac(key));
const signing = createPrivateKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }));

const server = https.createServer({ cert: readFileSync(join(dir, 'server.crt')), key: readFileSync(join(dir, 'server.key')) }, (req, res) => {
  if (req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': 15 }).end('{"status":"ok"}');
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    let ok = false;
    let sub = '';
    try {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { uuid: string; key: string };
      const expected = stored.get(body.uuid) ?? Buffer.alloc(32);
      ok = timingSafeEqual(mac(String(body.key)), expected) && stored.has(body.uuid);
      sub = body.uuid;
    } catch {
      ok = false;
    }
    if (!ok) {
      res.writeHead(401).end();
      return;
    }
    const iat = Math.floor(Date.now() / 1000);
    const token = jwt.sign({ sub, role: 'agent', iat, exp: iat + 900 }, signing, { algorithm: 'ES256' });
    const text = JSON.stringify({ token, token_type: 'Bearer', expires_at: new Date((iat + 900) * 1000).toISOString() });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text);
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const a = server.address();
  process.stdout.write(`BASELINE READY https://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}\n`);
});
