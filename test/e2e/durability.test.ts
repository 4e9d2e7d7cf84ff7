import Database from 'better-sqlite3';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { call, login, statelessBatch } from '../support/client.js';
import { AGENT_KEY, runCli, spawnServer, tempDir } from '../support/server.js';

/**
 * Guarantee: an acknowledged event is in the journal and survives kill -9 of the server.
 * 10,000 events in concurrent batches (a fifth of them large enough for the worker thread's
 * path); the server is SIGKILLed mid-stream; after a restart every batch that was answered 202 is
 * in the journal exactly once and the hash chain verifies.
 */
const Durability = suite<{ dataDir: string }>('acknowledged events survive kill -9');
Durability.before((ctx) => {
  ctx.dataDir = tempDir();
});
Durability.after((ctx) => rmSync(ctx.dataDir, { recursive: true, force: true }));

Durability('every batch answered 202 before the kill is in the journal exactly once', async (ctx) => {
  const env = { COMMS_API_DATA_DIR: ctx.dataDir };
  assert.is((await runCli(['init'], env)).code, 0);
  const added = await runCli(['agents', 'add', '--uuid', 'sim-1', '--key', AGENT_KEY], env);
  assert.is(added.code, 0, added.stderr);
  const server = await spawnServer(ctx.dataDir);
  const token = await login(server.api, { uuid: 'sim-1', key: AGENT_KEY });

  const BATCHES = 200;
  const PER_BATCH = 50;
  // a first large batch starts the worker thread (the stream's large ones then race the small ones)
  const first = await call('POST', `${server.api}/events/stateless`, {
    token,
    body: statelessBatch(PER_BATCH, { marker: 'large-0', pad: 'x'.repeat(6000) }),
    type: 'application/x-ndjson',
  });
  assert.is(first.status, 202, first.text);

  const acked = new Map<string, number>([['large-0', first.body.seq]]); // marker → seq
  let next = 0;
  let refused = 0;
  const worker = async () => {
    while (next < BATCHES) {
      const large = next % 5 === 0;
      const marker = `b${next++}`;
      try {
        const r = await call('POST', `${server.api}/events/stateless`, {
          token,
          // every fifth batch is ~300 KB: checked and written by the worker thread on its own connection
          body: statelessBatch(PER_BATCH, large ? { marker, pad: 'x'.repeat(6000) } : { marker }),
          type: 'application/x-ndjson',
        });
        if (r.status === 202) acked.set(marker, r.body.seq);
      } catch {
        refused += 1; // the connection died with the server: not acknowledged
      }
      if (acked.size === 60 && server.proc.exitCode === null) server.proc.kill('SIGKILL');
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  await server.kill('SIGKILL');
  assert.ok(acked.size >= 60, `only ${acked.size} batches were acknowledged`);
  assert.ok(refused > 0, 'the kill happened mid-stream');

  const restarted = await spawnServer(ctx.dataDir);
  await restarted.kill('SIGTERM');

  const db = new Database(join(ctx.dataDir, 'comms.db'), { readonly: true });
  const rows = db.prepare("SELECT seq, body FROM journal WHERE type = 'StatelessEventsReceived'").all() as Array<{ seq: number; body: Buffer }>;
  db.close();
  const bySeq = new Map(rows.map((r) => [r.seq, r.body.toString()]));
  const counts = new Map<string, number>();
  for (const body of bySeq.values()) {
    const marker = /"marker":"(b\d+|large-0)"/.exec(body)?.[1];
    if (marker) counts.set(marker, (counts.get(marker) ?? 0) + 1);
  }
  for (const [marker, seq] of acked) {
    assert.is(counts.get(marker), 1, `${marker} journaled once`);
    assert.match(bySeq.get(seq) ?? '', `"marker":"${marker}"`);
  }
  for (const n of counts.values()) assert.is(n, 1);

  const verify = await runCli(['journal', 'verify'], env);
  assert.is(verify.code, 0, verify.stdout + verify.stderr);
  assert.is(JSON.parse(verify.stdout).ok, true);
});

Durability.run();
