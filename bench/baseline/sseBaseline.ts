/**
 * The fan-out baseline: a minimal raw node:http SSE server. `GET /stream?agent=U` holds a stream
 * (same headers and `retry:` hint as comms-api, no auth, no journal); `POST /broadcast {id}`
 * serialises one command frame (a Buffer, encoded once) and writes it to every stream in connection order;
 * `POST /unicast {agent, id}` writes it to that agent's stream; `POST /unicast-journaled` does the same after
 * one fsync'd SQLite commit of the frame. Answers `{streams}` after writing.
 * Run: node --import tsx bench/baseline/sseBaseline.ts   (prints `BASELINE READY http://…`)
 */
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// `POST /unicast-journaled`: the frame is written after one SQLite commit (WAL, synchronous=FULL, as
// comms-api's journal), the floor of a durable command on this disk, measured beside the plain write.
const dbDir = mkdtempSync(join(tmpdir(), 'bench-sse-baseline-'));
const db = new Database(join(dbDir, 'journal.db'));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.exec('CREATE TABLE journal (seq INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER NOT NULL, body TEXT NOT NULL)');
const insert = db.prepare('INSERT INTO journal (time, body) VALUES (?, ?)');
const commit = db.transaction((body: string) => insert.run(Date.now(), body));

const streams = new Map<string, http.ServerResponse>();
let seq = 0;

/** The same shape and size as the command frames comms-api sends, encoded once. */
function frame(id: string): Buffer {
  seq += 1;
  const now = Date.now();
  const command = {
    id,
    action: { name: 'restart', args: {}, version: '1' },
    target: { type: 'all' },
    issued_at: new Date(now).toISOString(),
    expires_at: new Date(now + 600_000).toISOString(),
  };
  return Buffer.from(`id: ${seq}\nevent: command\ndata: ${JSON.stringify(command)}\n\n`);
}

function readJson(req: http.IncomingMessage, then: (v: Record<string, string>) => void): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => then(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, string>));
}

function answer(res: http.ServerResponse, body: unknown): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  if (req.method === 'GET' && url.pathname === '/stream') {
    const agent = url.searchParams.get('agent') ?? '';
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.flushHeaders();
    res.write(`retry: ${3000 + Math.round(Math.random() * 2000)}\n\n`);
    streams.set(agent, res);
    res.once('close', () => streams.delete(agent));
    return;
  }
  if (req.method === 'POST' && url.pathname === '/broadcast') {
    return readJson(req, ({ id }) => {
      const f = frame(id!);
      for (const s of streams.values()) s.write(f);
      answer(res, { streams: streams.size });
    });
  }
  if (req.method === 'POST' && (url.pathname === '/unicast' || url.pathname === '/unicast-journaled')) {
    return readJson(req, ({ id, agent }) => {
      const s = streams.get(agent!);
      const f = frame(id!);
      if (url.pathname === '/unicast-journaled') commit.immediate(f.toString('utf8'));
      s?.write(f);
      answer(res, { streams: s ? 1 : 0 });
    });
  }
  res.writeHead(404).end();
});
server.keepAliveTimeout = 65_000;
server.requestTimeout = 0;
server.listen(0, '127.0.0.1', () => {
  const a = server.address();
  process.stdout.write(`BASELINE READY http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}\n`);
});
process.on('SIGTERM', () => {
  db.close();
  rmSync(dbDir, { recursive: true, force: true });
  for (const s of streams.values()) s.destroy();
  server.close(() => process.exit(0));
});
