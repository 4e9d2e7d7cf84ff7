/**
 * The ingest baseline: raw node:http reads the body and appends it to SQLite with the same
 * durability policy as comms-api (WAL, synchronous=FULL, one transaction and fsync per
 * event-loop turn), no validation, no auth. Run: node --import tsx bench/baseline/ingestBaseline.ts DIR [TLS_DIR]
 */
import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { join } from 'node:path';

const dir = process.argv[2] ?? '.';
const db = new Database(join(dir, 'baseline.db'));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.exec('CREATE TABLE IF NOT EXISTS journal (seq INTEGER PRIMARY KEY AUTOINCREMENT, time INTEGER NOT NULL, body BLOB NOT NULL)');
const insert = db.prepare('INSERT INTO journal (time, body) VALUES (?, ?)');

let queue: Array<{ body: Buffer; done: (seq: number) => void }> = [];
const flush = () => {
  const batch = queue;
  queue = [];
  const seqs: number[] = [];
  db.transaction(() => {
    const now = Date.now();
    for (const job of batch) seqs.push(Number(insert.run(now, job.body).lastInsertRowid));
  }).immediate();
  batch.forEach((job, i) => job.done(seqs[i]!));
};

// with a TLS folder (server.crt/server.key, as comms-api generates it): HTTPS, same handler
const tlsDir = process.argv[3];
const handler: http.RequestListener = (req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    if (queue.length === 0) setImmediate(flush);
    queue.push({
      body: Buffer.concat(chunks),
      done: (seq) => {
        res.writeHead(202, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ seq, durability: 'journaled' }));
      },
    });
  });
};
const server = tlsDir
  ? https.createServer({ cert: readFileSync(join(tlsDir, 'server.crt')), key: readFileSync(join(tlsDir, 'server.key')) }, handler)
  : http.createServer(handler);
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  const a = server.address();
  process.stdout.write(`BASELINE READY ${tlsDir ? 'https' : 'http'}://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
