/**
 * A raw server holding idle SSE streams (bench/tlsMemory.bench.ts): `plain` (node:http) or `tls`
 * (node:https with DIR/server.crt and DIR/server.key). Sends its port, then its RSS after a GC on each
 * `rss` message. Run only by the benchmark (needs --expose-gc and an IPC channel).
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { join } from 'node:path';

const [mode, dir] = process.argv.slice(2);
const answer = (_req: http.IncomingMessage, res: http.ServerResponse): void => {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  res.write('retry: 3000\n\n');
};
const server = mode === 'tls' ? https.createServer({ cert: readFileSync(join(dir!, 'server.crt')), key: readFileSync(join(dir!, 'server.key')) }, answer) : http.createServer(answer);
server.keepAliveTimeout = 0;
server.requestTimeout = 0;
server.headersTimeout = 0;
server.listen(0, '127.0.0.1', () => {
  const a = server.address();
  process.send!(typeof a === 'object' && a ? a.port : 0);
});
const gc = (globalThis as { gc?: () => void }).gc;
process.on('message', () => {
  gc?.();
  setTimeout(() => {
    gc?.();
    process.send!(process.memoryUsage().rss);
  }, 1500);
});
