import { mkdirSync, rmSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { runCli, spawnServer, tempDir, type ServerProcess } from '../support/server.js';

/**
 * The CLI as an operator runs it: a child process against a real `comms-api serve` child, over
 * the admin socket of the data folder (the default) and over HTTPS with --server.
 */
interface Ctx {
  dataDir: string;
  server: ServerProcess;
  env: Record<string, string>;
}

const json = (r: { stdout: string }) => JSON.parse(r.stdout);

async function boot(ctx: Ctx, env: Record<string, string> = {}): Promise<void> {
  ctx.dataDir = tempDir('comms-api-cli-');
  mkdirSync(join(ctx.dataDir, 'xdg'));
  ctx.server = await spawnServer(ctx.dataDir, env);
  ctx.env = { COMMS_API_DATA_DIR: ctx.dataDir, XDG_CONFIG_HOME: join(ctx.dataDir, 'xdg') };
}
async function shutdown(ctx: Ctx): Promise<void> {
  await ctx.server.kill();
  rmSync(ctx.dataDir, { recursive: true, force: true });
}

const Local = suite<Ctx>('the CLI over the admin socket');
Local.before((ctx) => boot(ctx));
Local.after(shutdown);

Local('--version, --help with examples, and usage errors that name the flag and exit 2', async ({ env }) => {
  const version = await runCli(['--version'], env);
  assert.is(version.code, 0);
  assert.match(version.stdout, /^\d+\.\d+\.\d+/);
  const help = await runCli(['commands', 'issue', '--help'], env);
  assert.is(help.code, 0);
  assert.match(help.stdout, /Examples:/);
  assert.match(help.stdout, /--group <group>/);
  const missing = await runCli(['agents', 'add'], env);
  assert.is(missing.code, 2);
  assert.match(missing.stderr, /--uuid/);
  const unknown = await runCli(['frobnicate'], env);
  assert.is(unknown.code, 2);
  const badKey = await runCli(['agents', 'add', '--uuid', 'x-1', '--key', 'short'], env);
  assert.is(badKey.code, 2);
  assert.match(badKey.stderr, /the key/);
  assert.not.match(badKey.stderr, /Invalid input|expected string/);
  const noTarget = await runCli(['commands', 'issue', 'restart'], env);
  assert.is(noTarget.code, 2);
  assert.match(noTarget.stderr, /--agent UUID, --group NAME or --all/);
  const badInt = await runCli(['commands', 'history', '--limit', 'many'], env);
  assert.is(badInt.code, 2);
  assert.match(badInt.stderr, /--limit/);
});

Local('agents add generates a key (printed once) or reads it from stdin; agents list filters, get, delete', async ({ env }) => {
  const generated = await runCli(['agents', 'add', '--uuid', 'web-01', '--groups', 'web,linux'], env);
  assert.is(generated.code, 0, generated.stderr);
  assert.match(json(generated).key, /^[A-Za-z0-9]{32}$/);
  const fromStdin = await runCli(['agents', 'add', '--uuid', 'web-02', '--groups', 'web', '--key-stdin'], env, 'abcdefghijklmnopqrstuvwxyz012345\n');
  assert.is(fromStdin.code, 0, fromStdin.stderr);
  assert.is(json(fromStdin).key, undefined, 'a key given is not printed');
  await runCli(['agents', 'add', '--uuid', 'db-01', '--groups', 'db'], env);
  const all = await runCli(['agents', 'list', '-o', 'json'], env);
  assert.equal(json(all).agents.map((a: any) => a.uuid), ['db-01', 'web-01', 'web-02']);
  assert.equal(json(all).counts, { active: 0, disconnected: 0, never_connected: 3 });
  const web = await runCli(['agents', 'list', '--group', 'web', '-q', 'web-0', '-o', 'json'], env);
  assert.equal(json(web).agents.map((a: any) => a.uuid), ['web-01', 'web-02']);
  const tableOut = await runCli(['agents', 'list', '-o', 'table', '--status', 'never_connected'], env);
  assert.match(tableOut.stdout, /^UUID\s+NAME\s+STATUS/);
  assert.match(tableOut.stdout, /3 shown; active 0, disconnected 0, never connected 3/);
  const one = await runCli(['agents', 'get', 'web-01'], env);
  assert.equal(json(one).groups, ['web', 'linux']);
  assert.is((await runCli(['agents', 'delete', 'db-01'], env)).code, 0);
  const gone = await runCli(['agents', 'get', 'db-01'], env);
  assert.is(gone.code, 1);
  assert.match(gone.stderr, /404 Not Found/);
});

Local('commands: issue to a group (target count shown), get, cancel, watch, history', async ({ env }) => {
  const issued = await runCli(['commands', 'issue', 'restart', '--group', 'web', '--yes'], env);
  assert.is(issued.code, 0, issued.stderr);
  assert.match(issued.stderr, /group web: 2 agents/);
  const id = json(issued).id as string;
  assert.is(json(issued).targets, 2);
  const got = await runCli(['commands', 'get', id, '-o', 'table'], env);
  assert.match(got.stdout, /web-01\s+pending/);
  const cancelled = await runCli(['commands', 'cancel', id], env);
  assert.is(cancelled.code, 0, cancelled.stderr);
  assert.equal(json(cancelled).counts.cancelled, 2);
  const watched = await runCli(['commands', 'watch', id, '-o', 'json'], env);
  assert.is(watched.code, 1, 'not every target succeeded');
  assert.equal(watched.stdout.trim().split('\n').map((l) => JSON.parse(l).state), ['cancelled', 'cancelled']);
  const history = await runCli(['commands', 'history', '--command', id, '--status', 'cancelled'], env);
  assert.equal(json(history).items.map((i: any) => [i.agent, i.actor]), [['web-01', 'admin-socket'], ['web-02', 'admin-socket']]);
  const exported = await runCli(['commands', 'history', '--ndjson'], env);
  assert.ok(exported.stdout.trim().split('\n').map((l) => JSON.parse(l)).length >= 4);
  const upgrade = await runCli(['commands', 'issue', 'upgrade', '--all', '--args', '{"package":"nope.deb"}'], env);
  assert.is(upgrade.code, 1);
  assert.match(upgrade.stderr, /action\.args\.package: no package "nope\.deb"/);
});

Local('groups set reads a file and sends the ETag; a stale ETag is a conflict, reported', async ({ env, dataDir }) => {
  const file = join(dataDir, 'web.json');
  writeFileSync(file, JSON.stringify({ log: { level: 'debug' } }));
  const set = await runCli(['groups', 'set', 'web', file], env);
  assert.is(set.code, 0, set.stderr);
  const got = await runCli(['groups', 'get', 'web'], env);
  assert.equal(json(got), { log: { level: 'debug' } });
  const etag = /ETag: (\S+)/.exec(got.stderr)![1]!;
  writeFileSync(file, JSON.stringify({ log: { level: 'info' } }));
  assert.is((await runCli(['groups', 'set', 'web', file, '--etag', etag], env)).code, 0);
  const stale = await runCli(['groups', 'set', 'web', file, '--etag', etag], env);
  assert.is(stale.code, 1);
  assert.match(stale.stderr, /conflict: group web was changed by someone else/);
  const list = await runCli(['groups', 'list'], env);
  assert.equal(json(list).groups.map((g: any) => [g.group, g.agents, g.configured]), [['linux', 1, false], ['web', 2, true]]);
  const bad = await runCli(['groups', 'set', 'web', join(dataDir, 'missing.json')], env);
  assert.is(bad.code, 2);
});

Local('packages upload, list, delete; catalogue list, get, put', async ({ env, dataDir }) => {
  const file = join(dataDir, 'agent-4.9.deb');
  writeFileSync(file, Buffer.alloc(300_000, 7));
  const up = await runCli(['packages', 'upload', file], env);
  assert.is(up.code, 0, up.stderr);
  assert.equal([json(up).name, json(up).size], ['agent-4.9.deb', 300_000]);
  assert.equal(json(await runCli(['packages', 'list'], env)).packages.map((p: any) => p.name), ['agent-4.9.deb']);
  const upgrade = await runCli(['commands', 'issue', 'upgrade', '--agent', 'web-01', '--args', '{"package":"agent-4.9.deb"}'], env);
  assert.is(upgrade.code, 0, upgrade.stderr);
  assert.is((await runCli(['packages', 'delete', 'agent-4.9.deb'], env)).code, 0);
  assert.equal(json(await runCli(['packages', 'list'], env)).packages, []);
  const names = json(await runCli(['catalogue', 'list'], env)).items.map((i: any) => i.name);
  assert.ok(names.includes('restart') && names.includes('upgrade'));
  const entry = join(dataDir, 'scan.json');
  writeFileSync(entry, JSON.stringify({ description: 'Scan now', args: { type: 'object', additionalProperties: false }, default_timeout: 60, target_types: ['agent'] }));
  assert.is((await runCli(['catalogue', 'put', 'scan', entry], env)).code, 0);
  assert.is(json(await runCli(['catalog', 'get', 'scan'], env)).description, 'Scan now');
});

Local('users add, list, disable, enable, delete; API keys create, list, revoke; the audit trail', async ({ env }) => {
  const added = await runCli(['users', 'add', 'olga', '--role', 'operator'], env, 'a long operator password\n');
  assert.is(added.code, 0, added.stderr);
  const short = await runCli(['users', 'add', 'bob', '--role', 'auditor'], env, 'short\n');
  assert.is(short.code, 2);
  assert.match(short.stderr, /the password \(read from stdin\): at least 8 characters/);
  assert.is((await runCli(['users', 'disable', 'olga'], env)).code, 0);
  assert.equal(json(await runCli(['users', 'list'], env)).users.map((u: any) => [u.name, u.disabled]), [['olga', true]]);
  assert.is((await runCli(['users', 'enable', 'olga'], env)).code, 0);
  const key = await runCli(['api-keys', 'create', 'prometheus', '--role', 'metrics'], env);
  assert.is(key.code, 0, key.stderr);
  assert.match(json(key).key, /^cak_/);
  assert.match(key.stderr, /shown once/);
  const keys = json(await runCli(['api-keys', 'list'], env)).api_keys;
  assert.equal(keys.map((k: any) => [k.name, k.role, k.revoked]), [['prometheus', 'metrics', false]]);
  assert.is((await runCli(['api-keys', 'revoke', keys[0].id], env)).code, 0);
  assert.is(json(await runCli(['api-keys', 'list'], env)).api_keys[0].revoked, true);
  const trail = await runCli(['audit', '--kind', 'user'], env);
  assert.equal(json(trail).items.map((i: any) => [i.type, i.actor]), [['UserCreated', 'cli'], ['UserDisabled', 'admin-socket'], ['UserEnabled', 'admin-socket']]);
  const exported = await runCli(['audit', '--ndjson'], env);
  const kinds = new Set(exported.stdout.trim().split('\n').map((l) => JSON.parse(l).kind));
  for (const k of ['catalog', 'agent', 'configuration', 'package', 'user', 'api-key']) assert.ok(kinds.has(k), k);
});

Local('replay start --follow, list; dead letters; journal stats and verify', async ({ env }) => {
  const started = await runCli(['replay', 'start', '--dry-run', '--follow'], env);
  assert.is(started.code, 0, started.stderr);
  assert.is(json(started).state, 'done');
  const list = await runCli(['replay', 'list'], env);
  assert.is(json(list).replays.length, 1);
  const dead = await runCli(['dead-letters', 'list'], env);
  assert.equal(json(dead).dead_letters, []);
  const retryAll = await runCli(['dead-letters', 'retry-all'], env);
  assert.is(retryAll.code, 0, retryAll.stderr);
  const discard = await runCli(['dead-letters', 'discard', '99'], env);
  assert.is(discard.code, 1);
  assert.match(discard.stderr, /404 Not Found: no dead letter 99/);
  const stats = await runCli(['journal', 'stats'], env);
  assert.ok(json(stats).head_seq > 10);
  const verify = await runCli(['journal', 'verify'], env);
  assert.is(verify.code, 0);
  assert.is(json(verify).ok, true);
  const completion = await runCli(['completion', 'bash'], env);
  assert.match(completion.stdout, /complete -o default -F _comms_api comms-api/);
});

Local.run();

const Remote = suite<Ctx>('the CLI with --server over HTTPS');
// tokens live 60 s: every call is "near expiry", so the CLI renews the stored token
Remote.before((ctx) => boot(ctx, { COMMS_API_INSECURE_HTTP: '0', COMMS_API_TOKEN_TTL: '60' }));
Remote.after(shutdown);

Remote('login keeps a renewed token in a 0600 file; commands then work remotely; a disabled user is refused', async (ctx) => {
  const { env, dataDir } = ctx;
  const url = ctx.server.url;
  const ca = join(dataDir, 'tls', 'server.crt');
  assert.is((await runCli(['users', 'add', 'olga', '--role', 'operator'], env, 'a long operator password\n')).code, 0);
  const untrusted = await runCli(['login', '--server', url, '-u', 'olga'], env, 'a long operator password\n');
  assert.is(untrusted.code, 1);
  assert.match(untrusted.stderr, /--ca FILE/);
  const wrong = await runCli(['login', '--server', url, '--ca', ca, '-u', 'olga'], env, 'not the password\n');
  assert.is(wrong.code, 1);
  assert.match(wrong.stderr, /401/);
  const login = await runCli(['login', '--server', url, '--ca', ca, '-u', 'olga'], env, 'a long operator password\n');
  assert.is(login.code, 0, login.stderr);
  const file = join(dataDir, 'xdg', 'comms-api', 'credentials.json');
  assert.is(statSync(file).mode & 0o777, 0o600);
  const first = JSON.parse(readFileSync(file, 'utf8'))[url].token;
  const remote = ['--server', url, '--ca', ca];
  const added = await runCli([...remote, 'agents', 'add', '--uuid', 'r-1', '--groups', 'web'], env);
  assert.is(added.code, 0, added.stderr);
  assert.match(json(added).key, /^[A-Za-z0-9]{32}$/);
  await new Promise((r) => setTimeout(r, 1100)); // a renewed token differs from the first once a second has passed
  const listed = await runCli([...remote, 'agents', 'list'], env);
  assert.is(listed.code, 0, listed.stderr);
  assert.equal(json(listed).agents.map((a: any) => a.uuid), ['r-1']);
  assert.is.not(JSON.parse(readFileSync(file, 'utf8'))[url].token, first, 'the token was renewed');
  const issued = await runCli([...remote, 'commands', 'issue', 'restart', '--agent', 'r-1'], env);
  assert.is(issued.code, 0, issued.stderr);
  const history = await runCli([...remote, 'commands', 'history'], env);
  assert.equal(json(history).items.map((i: any) => i.actor), ['user:olga']);
  const key = json(await runCli(['api-keys', 'create', 'ci', '--role', 'auditor'], env)).key as string;
  const withKey = await runCli(['--server', url, '--insecure', 'journal', 'verify'], { ...env, COMMS_API_TOKEN: key });
  assert.is(withKey.code, 0, withKey.stderr);
  const forbidden = await runCli(['--server', url, '--insecure', 'agents', 'delete', 'r-1'], { ...env, COMMS_API_TOKEN: key });
  assert.is(forbidden.code, 1);
  assert.match(forbidden.stderr, /403/);
  assert.is((await runCli(['users', 'disable', 'olga'], env)).code, 0);
  const refused = await runCli([...remote, 'agents', 'list'], env);
  assert.is(refused.code, 1);
  assert.match(refused.stderr, /401/);
  assert.is((await runCli([...remote, 'logout'], env)).code, 0);
  const out = await runCli([...remote, 'agents', 'list'], env);
  assert.is(out.code, 2);
  assert.match(out.stderr, /not logged in/);
});

Remote.run();
