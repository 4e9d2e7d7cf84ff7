import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { adminCall, call, login, statelessBatch } from '../support/client.js';
import { AGENT_KEY, ROOT, runCli, spawnServer, tempDir, type ServerProcess } from '../support/server.js';
import { rewriteFrom } from './fixtures.js';

const env = (dataDir: string) => ({ COMMS_API_DATA_DIR: dataDir });
const json = (s: string) => JSON.parse(s);

/** A data folder that served: an agent, 3 stateless batches, stopped cleanly (the head is signed at stop). */
async function servedFolder(): Promise<{ dir: string; server: ServerProcess }> {
  const dir = tempDir('comms-api-served-');
  assert.is((await runCli(['init'], env(dir))).code, 0);
  assert.is((await runCli(['agents', 'add', '--uuid', 'ev-1', '--key', AGENT_KEY], env(dir))).code, 0);
  const server = await spawnServer(dir);
  const token = await login(server.api, { uuid: 'ev-1', key: AGENT_KEY });
  for (let i = 0; i < 3; i++) {
    const r = await call('POST', `${server.api}/events/stateless`, { token, body: statelessBatch(5), type: 'application/x-ndjson' });
    assert.is(r.status, 202);
  }
  return { dir, server };
}

const lock = suite('one server per data folder');

lock('a second serve is refused naming the first, which keeps its admin socket', async () => {
  const { dir, server } = await servedFolder();
  try {
    const second = await spawnServer(dir).then(
      (s) => s.kill().then(() => 'started'),
      (err: Error) => err.message,
    );
    assert.match(second, /exited with 1/);
    assert.match(second, new RegExp(`in use by comms-api pid ${server.proc.pid}`));
    assert.ok(second.includes(server.url), second);
    const health = await adminCall(join(dir, 'admin.sock'), 'GET', '/health');
    assert.is(health.status, 200);
    assert.is((await call('GET', `${server.api}/health`)).status, 200);
  } finally {
    assert.is(await server.kill(), 0);
  }
  assert.not.ok(existsSync(join(dir, 'serve.lock')), 'the lock goes with the server');
  assert.not.ok(existsSync(join(dir, 'admin.sock')));
  rmSync(dir, { recursive: true, force: true });
});

lock('a lock left by a killed server is taken over', async () => {
  const { dir, server } = await servedFolder();
  await server.kill('SIGKILL');
  assert.ok(existsSync(join(dir, 'serve.lock')));
  const again = await spawnServer(dir);
  assert.is((await call('GET', `${again.api}/health`)).status, 200);
  assert.is(await again.kill(), 0);
  rmSync(dir, { recursive: true, force: true });
});

const folders = suite('no silent new data folders');

folders('every command but serve and init refuses a missing or empty data folder, naming it', async () => {
  const base = tempDir('comms-api-nofolder-');
  const missing = join(base, 'nope');
  const empty = join(base, 'empty');
  mkdirSync(empty);
  for (const args of [['journal', 'verify'], ['journal', 'stats'], ['journal', 'prune', '--before-seq', '2'], ['agents', 'add', '--uuid', 'x', '--key', AGENT_KEY], ['dead-letters', 'list'], ['backup', join(base, 'b.db')]]) {
    const r = await runCli(args, env(missing), 'a long password');
    assert.is(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.ok(r.stderr.includes(missing), r.stderr);
    assert.not.ok(existsSync(missing), `${args.join(' ')} created the folder`);
    const e = await runCli(args, env(empty));
    assert.is(e.code, 1);
    assert.ok(e.stderr.includes(`${empty} holds no journal`), e.stderr);
  }
  const users = await runCli(['users', 'add', 'olga', '--role', 'operator'], env(missing), 'a long operator password');
  assert.is(users.code, 1);
  assert.not.ok(existsSync(missing));
  assert.is((await runCli(['init'], env(missing))).code, 0);
  assert.is((await runCli(['journal', 'verify'], env(missing))).code, 0);
  rmSync(base, { recursive: true, force: true });
});

const tamper = suite<{ dir: string; receipt: string; base: string }>('tampering tried from outside on copies');

tamper.before(async (ctx) => {
  const { dir, server } = await servedFolder();
  assert.is(await server.kill(), 0);
  ctx.dir = dir;
  ctx.base = tempDir('comms-api-copies-');
  const v = await runCli(['journal', 'verify'], env(dir));
  assert.is(v.code, 0, v.stdout + v.stderr);
  ctx.receipt = join(ctx.base, 'receipt.json');
  writeFileSync(ctx.receipt, v.stdout);
  assert.is(json(v.stdout).signed_head.seq, json(v.stdout).head_seq, 'the head was signed at the clean stop');
});
tamper.after((ctx) => {
  rmSync(ctx.dir, { recursive: true, force: true });
  rmSync(ctx.base, { recursive: true, force: true });
});
const copy = (ctx: { dir: string; base: string }, name: string): string => {
  const to = join(ctx.base, name);
  cpSync(ctx.dir, to, { recursive: true });
  return to;
};
const edit = (dir: string, f: (db: Database.Database) => void) => {
  const db = new Database(join(dir, 'comms.db'));
  f(db);
  db.close();
};

tamper('an untouched copy verifies, and so does its receipt', async (ctx) => {
  const r = await runCli(['journal', 'verify', '--receipt', ctx.receipt], env(copy(ctx, 'untouched')));
  assert.is(r.code, 0, r.stdout);
  assert.is(json(r.stdout).receipt.ok, true);
});

tamper('truncating the tail: exit 1 naming the first untrusted seq', async (ctx) => {
  const dir = copy(ctx, 'truncated');
  edit(dir, (db) => db.prepare('DELETE FROM journal WHERE seq > (SELECT max(seq) - 5 FROM journal)').run());
  const r = await runCli(['journal', 'verify'], env(dir));
  assert.is(r.code, 1);
  const v = json(r.stdout);
  assert.is(v.ok, false);
  assert.type(v.first_untrusted_seq, 'number');
  assert.match(v.reason, /entries were removed/);
});

tamper('rewriting a range with recomputed hashes: exit 1, and the receipt taken before fails', async (ctx) => {
  const dir = copy(ctx, 'rewritten');
  edit(dir, (db) => rewriteFrom(db as never, 5));
  const r = await runCli(['journal', 'verify', '--receipt', ctx.receipt], env(dir));
  assert.is(r.code, 1);
  const v = json(r.stdout);
  assert.ok(v.first_untrusted_seq <= 5, String(v.first_untrusted_seq));
  assert.is(v.receipt.ok, false);
  assert.match(v.receipt.reason, /another chain hash/);
});

tamper("swapping in another node's database: exit 1", async (ctx) => {
  const other = tempDir('comms-api-other-');
  assert.is((await runCli(['init'], env(other))).code, 0);
  assert.is((await runCli(['agents', 'add', '--uuid', 'ev-2', '--key', AGENT_KEY], env(other))).code, 0);
  const dir = copy(ctx, 'swapped');
  for (const f of ['comms.db', 'comms.db-wal', 'comms.db-shm']) rmSync(join(dir, f), { force: true });
  cpSync(join(other, 'comms.db'), join(dir, 'comms.db'));
  const r = await runCli(['journal', 'verify'], env(dir));
  assert.is(r.code, 1);
  assert.match(json(r.stdout).reason, /another key/);
  // the whole folder swapped (database and keys): the receipt, or the auditor's copy of the public key, tells
  const whole = await runCli(['journal', 'verify', '--receipt', ctx.receipt], env(other));
  assert.is(whole.code, 1);
  assert.match(json(whole.stdout).receipt.reason, /signed by key/);
  const pub = await runCli(['journal', 'verify', '--public-key', join(ctx.dir, 'keys', 'journal-heads.pub.pem')], env(other));
  assert.is(pub.code, 1);
  rmSync(other, { recursive: true, force: true });
});

const backup = suite('backup and restore');

backup('an online backup of a serving node restores into a new data folder that verifies and serves', async () => {
  const { dir, server } = await servedFolder();
  const base = tempDir('comms-api-backup-');
  const file = join(base, 'comms-backup.db');
  try {
    const b = await runCli(['backup', file], env(dir));
    assert.is(b.code, 0, b.stderr);
    const made = json(b.stdout);
    assert.is(made.file, file);
    assert.ok(made.signed_head.seq > 0);
    assert.ok(existsSync(`${file}.heads.pub.pem`));
  } finally {
    assert.is(await server.kill(), 0);
  }
  const restored = join(base, 'restored');
  const noKeys = await runCli(['restore', file], env(restored));
  assert.is(noKeys.code, 1);
  assert.match(noKeys.stderr, /--keys/);
  const r = await runCli(['restore', file, '--keys', join(dir, 'keys')], env(restored));
  assert.is(r.code, 0, r.stderr);
  const v = await runCli(['journal', 'verify'], env(restored));
  assert.is(v.code, 0, v.stdout);
  const again = await runCli(['restore', file, '--keys', join(dir, 'keys')], env(restored));
  assert.is(again.code, 1, 'a data folder with a journal is not overwritten');
  const served = await spawnServer(restored);
  try {
    const token = await login(served.api, { uuid: 'ev-1', key: AGENT_KEY });
    const post = await call('POST', `${served.api}/events/stateless`, { token, body: statelessBatch(2), type: 'application/x-ndjson' });
    assert.is(post.status, 202);
  } finally {
    assert.is(await served.kill(), 0);
  }
  assert.is((await runCli(['journal', 'verify'], env(restored))).code, 0);
  rmSync(dir, { recursive: true, force: true });
  rmSync(base, { recursive: true, force: true });
});

const npm = suite('stopping what npm start started');

function npmStart(dataDir: string) {
  const proc = spawn('npm', ['start'], {
    cwd: ROOT,
    detached: true,
    env: { ...process.env, ...env(dataDir), COMMS_API_HOST: '127.0.0.1', COMMS_API_PORT: '0', COMMS_API_INSECURE_HTTP: '1', COMMS_API_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<void>((r) => proc.once('close', () => r()));
  const started = new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`npm start did not serve:\n${out}`)), 60_000);
    const onData = () => {
      if (/serving on/.test(out)) {
        proc.stdout!.off('data', onData);
        clearTimeout(t);
        resolve(JSON.parse(readFileSync(join(dataDir, 'serve.lock'), 'utf8')).pid as number);
      }
    };
    proc.stdout!.on('data', onData);
  });
  return { proc, started, exited, output: () => out };
}
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 300 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
  return !alive(pid);
}

npm('kill <pid of npm start> stops the server gracefully', async () => {
  const dir = tempDir('comms-api-npm-');
  const run = npmStart(dir);
  const pid = await run.started;
  process.kill(run.proc.pid!, 'SIGTERM');
  assert.ok(await gone(pid), `server ${pid} still runs:\n${run.output()}`);
  await run.exited;
  assert.match(run.output(), /"msg":"stopped"/);
  assert.not.ok(existsSync(join(dir, 'serve.lock')));
  rmSync(dir, { recursive: true, force: true });
});

npm('Ctrl-C (SIGINT to the foreground process group) stops it gracefully too', async () => {
  const dir = tempDir('comms-api-npm-');
  const run = npmStart(dir);
  const pid = await run.started;
  process.kill(-run.proc.pid!, 'SIGINT');
  assert.ok(await gone(pid), `server ${pid} still runs:\n${run.output()}`);
  await run.exited;
  assert.ok(/"msg":"stopped"/.test(run.output()), run.output());
  assert.not.ok(existsSync(join(dir, 'serve.lock')));
  rmSync(dir, { recursive: true, force: true });
});

lock.run();
folders.run();
tamper.run();
backup.run();
npm.run();
