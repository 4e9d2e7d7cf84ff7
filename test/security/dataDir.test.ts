import { spawn } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { secureDataDir } from '../../src/security/dataDir.js';
import { loadTls } from '../../src/security/tls.js';
import { call, login } from '../support/client.js';
import { AGENT_KEY, ROOT, runCli, tempDir } from '../support/server.js';

interface Served {
  api: string;
  output(): string;
  stop(): Promise<void>;
}

/** `comms-api serve` started by a shell whose umask is 000, on `dataDir`. */
async function serveWithUmask000(dataDir: string): Promise<Served> {
  const bin = join(ROOT, 'bin/comms-api.js');
  const proc = spawn('/bin/sh', ['-c', `umask 000 && exec "${process.execPath}" "${bin}" serve`], {
    env: { ...process.env, COMMS_API_DATA_DIR: dataDir, COMMS_API_HOST: '127.0.0.1', COMMS_API_PORT: '0', COMMS_API_INSECURE_HTTP: '1', COMMS_API_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stderr.on('data', (d) => (out += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 60_000);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /serving on ([^\s"]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    proc.once('exit', (code) => reject(new Error(`server exited with ${code}:\n${out}`)));
  });
  const exited = new Promise((r) => proc.once('exit', r));
  return {
    api: `${url}/api/v1`,
    output: () => out,
    async stop() {
      proc.kill('SIGTERM');
      await exited;
    },
  };
}

/** Every path below `dir` (and `dir`) whose mode lets group or others in. */
function looseModes(dir: string): string[] {
  const loose: string[] = [];
  const visit = (p: string) => {
    const st = lstatSync(p);
    if (st.mode & 0o077) loose.push(`${p.slice(dir.length) || '.'} ${(st.mode & 0o777).toString(8)}`);
    if (st.isDirectory()) for (const n of readdirSync(p)) visit(join(p, n));
  };
  visit(dir);
  return loose;
}

const Modes = suite('the data folder is private whatever the umask');

Modes('a new data folder is 0700 and every file in it 0600/0700 (database, WAL, SHM, keys, packages, socket)', async () => {
  const parent = tempDir();
  const dataDir = join(parent, 'data');
  const env = { COMMS_API_DATA_DIR: dataDir };
  const s = await serveWithUmask000(dataDir);
  try {
    await runCli(['users', 'add', 'olga', '--role', 'operator'], env, 'operator-password');
    const operator = await login(s.api, { username: 'olga', password: 'operator-password' });
    assert.is((await call('POST', `${s.api}/agents`, { token: operator, json: { uuid: 'agent-1', key: AGENT_KEY } })).status, 201);
    assert.is((await call('PUT', `${s.api}/packages/p.bin`, { token: operator, body: Buffer.alloc(1000, 1), type: 'application/octet-stream' })).status, 201);
    const names = readdirSync(dataDir);
    for (const expected of ['comms.db', 'comms.db-wal', 'comms.db-shm', 'keys', 'packages', 'admin.sock']) assert.ok(names.includes(expected), `${expected} in ${names}`);
    assert.is(lstatSync(dataDir).mode & 0o777, 0o700);
    assert.equal(looseModes(dataDir), []);
  } finally {
    await s.stop();
    rmSync(parent, { recursive: true, force: true });
  }
});

Modes('an existing folder open to others gets a warning at start; loose files in it are tightened', async () => {
  const dataDir = tempDir();
  chmodSync(dataDir, 0o755);
  mkdirSync(join(dataDir, 'packages'), { mode: 0o755 });
  chmodSync(join(dataDir, 'packages'), 0o755);
  const s = await serveWithUmask000(dataDir);
  try {
    assert.match(s.output(), /data folder .* has mode 0755/);
    assert.equal(looseModes(dataDir), ['. 755']);
  } finally {
    await s.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

Modes('the generated TLS pair is private too, under umask 000', async () => {
  const parent = tempDir();
  const dataDir = join(parent, 'data');
  const previous = process.umask(0);
  try {
    secureDataDir(dataDir);
    await loadTls(dataDir);
    assert.ok(readdirSync(join(dataDir, 'tls')).length >= 2);
    assert.equal(looseModes(dataDir), []);
  } finally {
    process.umask(previous);
    rmSync(parent, { recursive: true, force: true });
  }
});

Modes.run();
