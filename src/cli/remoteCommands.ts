// Actions of the commands that talk to a server (admin socket by default, or --server).
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { Transform } from 'node:stream';
import { loadConfig } from '../config.js';
import { loginTo, openClient, normaliseServer, type Client, type Globals } from './client.js';
import { storeToken } from './credentials.js';
import { UsageError } from './errors.js';
import { fields, formatOf, print, table, type Format } from './output.js';
import { confirm, readSecret } from './prompt.js';

async function withClient<T>(g: Globals, run: (c: Client, f: Format) => Promise<T>): Promise<T> {
  const c = await openClient(g, () => loadConfig(process.env, g.config).adminSocket);
  try {
    return await run(c, formatOf(g.output));
  } finally {
    await c.close();
  }
}
const enc = encodeURIComponent;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function readJsonFile(file: string, what: string): unknown {
  let text: string;
  try {
    text = file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`${what}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${what}: ${file} is not valid JSON (${(err as Error).message})`);
  }
}

// ── login ──────────────────────────────────────────────────────────────────────────────
export async function login(g: Globals, o: { username: string }): Promise<void> {
  if (!g.server) throw new UsageError('login needs --server URL (the admin socket needs no login)');
  const password = await readSecret(`password for ${o.username}: `);
  if (!password) throw new UsageError('no password given (type it, or pipe it on stdin)');
  const { expires_at } = await loginTo(g, o.username, password);
  process.stderr.write(`logged in to ${normaliseServer(g.server)} as ${o.username}; the token is renewed while you use it (it lapses at ${expires_at} if unused)\n`);
}

export async function logout(g: Globals): Promise<void> {
  if (!g.server) throw new UsageError('logout needs --server URL');
  storeToken(normaliseServer(g.server), undefined);
  process.stderr.write(`forgot the token of ${normaliseServer(g.server)}\n`);
}

// ── agents ─────────────────────────────────────────────────────────────────────────────
const agentColumns = [
  { header: 'uuid', value: (a: any) => a.uuid },
  { header: 'name', value: (a: any) => a.name },
  { header: 'status', value: (a: any) => a.status },
  { header: 'groups', value: (a: any) => a.groups },
  { header: 'os', value: (a: any) => (a.host?.os ? [a.host.os.name, a.host.os.version].filter(Boolean).join(' ') : null) },
  { header: 'version', value: (a: any) => a.version },
  { header: 'last seen', value: (a: any) => a.last_seen },
];

export async function agentsList(g: Globals, o: { status?: string; group?: string; os?: string; agentVersion?: string; prefix?: string; sort?: string; limit?: number }): Promise<void> {
  await withClient(g, async (c, f) => {
    const agents: unknown[] = [];
    let cursor: string | undefined;
    let counts: Record<string, number> = {};
    do {
      const want = o.limit === undefined ? 1000 : Math.min(1000, o.limit - agents.length);
      const r = await c.call('GET', '/agents', {
        query: { status: o.status, group: o.group, os: o.os, version: o.agentVersion, q: o.prefix, sort: o.sort, limit: want, cursor },
      });
      agents.push(...r.body.agents);
      counts = r.body.counts;
      cursor = r.body.next_cursor ?? undefined;
    } while (cursor && (o.limit === undefined || agents.length < o.limit));
    print(f, { agents, counts }, (v) =>
      `${table(v.agents, agentColumns)}${v.agents.length} shown; active ${counts.active}, disconnected ${counts.disconnected}, never connected ${counts.never_connected}\n`,
    );
  });
}

export async function agentsGet(g: Globals, uuid: string): Promise<void> {
  await withClient(g, async (c, f) => print(f, (await c.call('GET', `/agents/${enc(uuid)}`)).body, fields));
}

export async function agentsDelete(g: Globals, uuid: string): Promise<void> {
  await withClient(g, async (c) => {
    await c.call('DELETE', `/agents/${enc(uuid)}`);
    process.stderr.write(`deleted agent ${uuid}; its tokens are refused\n`);
  });
}

// ── commands ───────────────────────────────────────────────────────────────────────────
function targetOf(o: { agent?: string; group?: string; all?: boolean }): { type: 'agent' | 'group' | 'all'; id?: string } {
  const given = [o.agent !== undefined, o.group !== undefined, o.all === true].filter(Boolean).length;
  if (given !== 1) throw new UsageError('name the target with exactly one of --agent UUID, --group NAME or --all');
  if (o.agent !== undefined) return { type: 'agent', id: o.agent };
  if (o.group !== undefined) return { type: 'group', id: o.group };
  return { type: 'all' };
}

/** How many agents a group or `all` target names now (the counts of GET /agents). */
async function targetCount(c: Client, target: { type: string; id?: string }): Promise<number> {
  const r = await c.call('GET', '/agents', { query: { limit: 1, ...(target.type === 'group' ? { group: target.id } : {}) } });
  const n = r.body.counts as Record<string, number>;
  return n.active! + n.disconnected! + n.never_connected!;
}

export async function commandsIssue(g: Globals, action: string, o: { agent?: string; group?: string; all?: boolean; args: string; timeout?: number; watch?: boolean }): Promise<number | void> {
  const target = targetOf(o);
  let args: unknown;
  try {
    args = JSON.parse(o.args);
  } catch {
    throw new UsageError(`--args: not valid JSON: ${o.args}`);
  }
  return withClient(g, async (c, f) => {
    if (target.type !== 'agent') {
      const n = await targetCount(c, target);
      const what = target.type === 'all' ? 'every agent' : `group ${target.id}`;
      process.stderr.write(`${action} → ${what}: ${n} agent${n === 1 ? '' : 's'}\n`);
      if (!g.yes && process.stdin.isTTY && process.stderr.isTTY && !(await confirm('issue it?'))) {
        process.stderr.write('not issued\n');
        return 1;
      }
    }
    const r = await c.call('POST', '/commands', { json: { action: { name: action, args }, target, ...(o.timeout ? { timeout: o.timeout } : {}) } });
    print(f, r.body, (v: any) => `issued ${v.id} to ${v.targets} agent${v.targets === 1 ? '' : 's'} (expires ${v.expires_at})\n`);
    if (o.watch) return watch(c, f, r.body.id, 1000);
  });
}

const targetColumns = [
  { header: 'agent', value: (t: any) => t.agent },
  { header: 'state', value: (t: any) => t.state },
  { header: 'delivered', value: (t: any) => t.delivered_at },
  { header: 'finished', value: (t: any) => t.finished_at },
  { header: 'code', value: (t: any) => t.code },
  { header: 'message', value: (t: any) => t.message },
];
const commandText = (v: any) =>
  `${fields({ id: v.id, action: v.action.name, args: v.action.args, target: v.target.id ? `${v.target.type} ${v.target.id}` : v.target.type, issued_by: v.issued_by, issued_at: v.issued_at, expires_at: v.expires_at, counts: Object.entries(v.counts).filter(([, n]) => n).map(([s, n]) => `${s} ${n}`).join(', ') })}\n${table(v.targets, targetColumns)}`;

export async function commandsGet(g: Globals, id: string): Promise<void> {
  await withClient(g, async (c, f) => print(f, (await c.call('GET', `/commands/${enc(id)}`)).body, commandText));
}

export async function commandsCancel(g: Globals, id: string): Promise<void> {
  await withClient(g, async (c, f) => {
    const r = await c.call('POST', `/commands/${enc(id)}/cancel`);
    print(f, r.body, (v: any) => `cancelled; ${Object.entries(v.counts).filter(([, n]) => n).map(([s, n]) => `${s} ${n}`).join(', ')}\n`);
  });
}

/** Polls the command and prints each target's state change until none is open; 0 when all succeeded. */
async function watch(c: Client, f: Format, id: string, intervalMs: number): Promise<number> {
  const seen = new Map<string, string>();
  for (;;) {
    const v = (await c.call('GET', `/commands/${enc(id)}`)).body;
    for (const t of v.targets as any[]) {
      if (seen.get(t.agent) === t.state) continue;
      seen.set(t.agent, t.state);
      const line = { time: t.finished_at ?? t.delivered_at ?? v.issued_at, command: id, agent: t.agent, state: t.state, ...(t.code !== undefined ? { code: t.code } : {}), ...(t.message ? { message: t.message } : {}) };
      process.stdout.write(f === 'json' ? `${JSON.stringify(line)}\n` : `${line.time}  ${t.agent}  ${t.state}${t.code !== undefined ? `  code ${t.code}` : ''}${t.message ? `  ${t.message}` : ''}\n`);
    }
    if (v.counts.pending + v.counts.delivered === 0) {
      if (f !== 'json') process.stderr.write(`done: ${Object.entries(v.counts).filter(([, n]) => n).map(([s, n]) => `${s} ${n}`).join(', ')}\n`);
      return v.counts.success === v.targets.length ? 0 : 1;
    }
    await sleep(intervalMs);
  }
}

export async function commandsWatch(g: Globals, id: string, o: { interval: number }): Promise<number> {
  return withClient(g, (c, f) => watch(c, f, id, o.interval));
}

const historyColumns = [
  { header: 'time', value: (i: any) => i.time },
  { header: 'command', value: (i: any) => i.command },
  { header: 'agent', value: (i: any) => i.agent },
  { header: 'action', value: (i: any) => i.action },
  { header: 'state', value: (i: any) => i.state },
  { header: 'actor', value: (i: any) => i.actor },
  { header: 'code', value: (i: any) => i.code },
  { header: 'message', value: (i: any) => i.message },
];

/** A paged list: every page up to `limit` items, or the NDJSON export streamed to stdout. */
async function pagedOrExport(c: Client, f: Format, path: string, query: Record<string, string | number | undefined>, o: { limit: number; ndjson?: boolean }, columns: typeof historyColumns): Promise<void> {
  if (o.ndjson) {
    const r = await c.call('GET', path, { query: { ...query, format: 'ndjson' }, raw: true, headers: { accept: 'application/x-ndjson' } });
    for await (const chunk of r.body) process.stdout.write(chunk);
    return;
  }
  const items: unknown[] = [];
  let cursor: string | undefined;
  do {
    const r = await c.call('GET', path, { query: { ...query, limit: Math.min(1000, o.limit - items.length), cursor } });
    items.push(...r.body.items);
    cursor = r.body.next_cursor ?? undefined;
  } while (cursor && items.length < o.limit);
  print(f, { items, next_cursor: cursor ?? null }, (v) => table(v.items, columns) + (cursor ? `(more: --limit higher, or --ndjson for everything)\n` : ''));
}

export async function commandsHistory(g: Globals, o: { agent?: string; user?: string; action?: string; command?: string; status?: string; since?: string; until?: string; limit: number; ndjson?: boolean }): Promise<void> {
  const { limit: _l, ndjson: _n, ...query } = o;
  await withClient(g, (c, f) => pagedOrExport(c, f, '/commands/history', query, o, historyColumns));
}

const auditColumns = [
  { header: 'time', value: (i: any) => i.time },
  { header: 'kind', value: (i: any) => i.kind },
  { header: 'type', value: (i: any) => i.type },
  { header: 'subject', value: (i: any) => i.subject },
  { header: 'actor', value: (i: any) => i.actor },
  { header: 'details', value: (i: any) => i.details },
];

export async function audit(g: Globals, o: { kind?: string; actor?: string; subject?: string; since?: string; until?: string; limit: number; ndjson?: boolean }): Promise<void> {
  const { limit: _l, ndjson: _n, ...query } = o;
  await withClient(g, (c, f) => pagedOrExport(c, f, '/audit', query, o, auditColumns as never));
}

// ── groups ─────────────────────────────────────────────────────────────────────────────
export async function groupsList(g: Globals): Promise<void> {
  await withClient(g, async (c, f) =>
    print(f, (await c.call('GET', '/groups')).body, (v: any) =>
      table(v.groups, [
        { header: 'group', value: (x: any) => x.group },
        { header: 'agents', value: (x: any) => x.agents },
        { header: 'configured', value: (x: any) => x.configured },
        { header: 'etag', value: (x: any) => x.etag },
      ]),
    ),
  );
}

export async function groupsGet(g: Globals, group: string): Promise<void> {
  await withClient(g, async (c) => {
    const r = await c.call('GET', `/groups/${enc(group)}/configuration`);
    process.stdout.write(`${JSON.stringify(r.body, null, 2)}\n`);
    process.stderr.write(`ETag: ${r.headers.etag}\n`);
  });
}

export async function groupsSet(g: Globals, group: string, file: string, o: { etag?: string }): Promise<number> {
  const configuration = readJsonFile(file, 'the configuration');
  return withClient(g, async (c) => {
    // the ETag the edit started from: --etag (from `groups get`), else the current one
    const etag = o.etag ?? ((await c.call('GET', `/groups/${enc(group)}/configuration`)).headers.etag as string);
    const r = await c.call('PUT', `/groups/${enc(group)}/configuration`, { json: configuration, headers: { 'if-match': etag }, accept: [412] });
    if (r.status === 412) {
      process.stderr.write(
        `comms-api: conflict: group ${group} was changed by someone else since ETag ${etag} (now ${r.headers.etag}).\n` +
          `  Nothing was written. Run \`comms-api groups get ${group}\`, merge your change, and set it again.\n`,
      );
      return 1;
    }
    process.stderr.write(`stored the configuration of ${group}; ETag: ${r.headers.etag}\n`);
    return 0;
  });
}

// ── packages ───────────────────────────────────────────────────────────────────────────
export async function packagesUpload(g: Globals, file: string, o: { name?: string }): Promise<void> {
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    throw new UsageError(`cannot read ${file}`);
  }
  const name = o.name ?? basename(file);
  const { default: cliProgress } = await import('cli-progress');
  const bar = process.stderr.isTTY
    ? new cliProgress.SingleBar({ stream: process.stderr, format: `${name} {bar} {percentage}% | {value}/{total} bytes | {eta_formatted}` }, cliProgress.Presets.shades_classic)
    : null;
  let sent = 0;
  bar?.start(size, 0);
  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      sent += chunk.length;
      bar?.update(sent);
      done(null, chunk);
    },
  });
  try {
    await withClient(g, async (c, f) => {
      const r = await c.call('PUT', `/packages/${enc(name)}`, {
        body: createReadStream(file).pipe(counter),
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
      });
      bar?.stop();
      print(f, r.body, (v: any) => `${r.status === 201 ? 'uploaded' : 'replaced'} ${v.name}: ${v.size} bytes, sha256 ${v.sha256}\n`);
    });
  } finally {
    bar?.stop();
  }
}

export async function packagesList(g: Globals): Promise<void> {
  await withClient(g, async (c, f) =>
    print(f, (await c.call('GET', '/packages')).body, (v: any) =>
      table(v.packages, [
        { header: 'name', value: (p: any) => p.name },
        { header: 'size', value: (p: any) => p.size },
        { header: 'sha256', value: (p: any) => p.sha256 },
        { header: 'uploaded', value: (p: any) => p.uploaded_at },
        { header: 'by', value: (p: any) => p.uploaded_by },
      ]),
    ),
  );
}

export async function packagesDelete(g: Globals, name: string): Promise<void> {
  await withClient(g, async (c) => {
    await c.call('DELETE', `/packages/${enc(name)}`);
    process.stderr.write(`deleted package ${name}\n`);
  });
}

// ── catalogue ──────────────────────────────────────────────────────────────────────────
export async function catalogueList(g: Globals): Promise<void> {
  await withClient(g, async (c, f) =>
    print(f, (await c.call('GET', '/catalog')).body, (v: any) =>
      table(v.items, [
        { header: 'name', value: (x: any) => x.name },
        { header: 'targets', value: (x: any) => x.target_types },
        { header: 'timeout', value: (x: any) => x.default_timeout },
        { header: 'description', value: (x: any) => x.description },
      ]),
    ),
  );
}

export async function catalogueGet(g: Globals, name: string): Promise<void> {
  await withClient(g, async (c) => process.stdout.write(`${JSON.stringify((await c.call('GET', `/catalog/${enc(name)}`)).body, null, 2)}\n`));
}

export async function cataloguePut(g: Globals, name: string, file: string): Promise<void> {
  const entry = readJsonFile(file, 'the catalogue entry');
  await withClient(g, async (c, f) => {
    const r = await c.call('PUT', `/catalog/${enc(name)}`, { json: entry });
    print(f, r.body, () => `${r.status === 201 ? 'created' : 'replaced'} action ${name}\n`);
  });
}

// ── users and API keys ─────────────────────────────────────────────────────────────────
export async function usersList(g: Globals): Promise<void> {
  await withClient(g, async (c, f) =>
    print(f, (await c.call('GET', '/users', { query: { limit: 1000 } })).body, (v: any) =>
      table(v.users, [
        { header: 'name', value: (u: any) => u.name },
        { header: 'role', value: (u: any) => u.role },
        { header: 'disabled', value: (u: any) => u.disabled },
        { header: 'created', value: (u: any) => u.created_at },
      ]),
    ),
  );
}

const userChange = (change: 'disable' | 'enable') => async (g: Globals, name: string) =>
  withClient(g, async (c, f) => print(f, (await c.call('POST', `/users/${enc(name)}/${change}`)).body, (u: any) => `${u.name}: ${u.disabled ? 'disabled (its tokens are refused)' : 'enabled'}\n`));
export const usersDisable = userChange('disable');
export const usersEnable = userChange('enable');

export async function usersDelete(g: Globals, name: string): Promise<void> {
  await withClient(g, async (c) => {
    await c.call('DELETE', `/users/${enc(name)}`);
    process.stderr.write(`deleted user ${name}; its tokens are refused\n`);
  });
}

export async function apiKeysCreate(g: Globals, name: string, o: { role: string }): Promise<void> {
  await withClient(g, async (c, f) => {
    const r = await c.call('POST', '/api-keys', { json: { name, role: o.role } });
    print(f, r.body, (k: any) => `${k.key}\n`);
    process.stderr.write(`API key ${r.body.id} (${o.role}): shown once, keep it now; send it as "Authorization: Bearer <key>"\n`);
  });
}

export async function apiKeysList(g: Globals): Promise<void> {
  await withClient(g, async (c, f) =>
    print(f, (await c.call('GET', '/api-keys', { query: { limit: 1000 } })).body, (v: any) =>
      table(v.api_keys, [
        { header: 'id', value: (k: any) => k.id },
        { header: 'name', value: (k: any) => k.name },
        { header: 'role', value: (k: any) => k.role },
        { header: 'created', value: (k: any) => k.created_at },
        { header: 'by', value: (k: any) => k.created_by },
        { header: 'revoked', value: (k: any) => k.revoked_at ?? false },
      ]),
    ),
  );
}

export async function apiKeysRevoke(g: Globals, id: string): Promise<void> {
  await withClient(g, async (c) => {
    await c.call('DELETE', `/api-keys/${enc(id)}`);
    process.stderr.write(`revoked API key ${id}\n`);
  });
}

// ── replays in the server ──────────────────────────────────────────────────────────────
const rateOf = (p: any): number => {
  const seconds = ((p.finished_at ? Date.parse(p.finished_at) : Date.now()) - Date.parse(p.started_at)) / 1000;
  return seconds > 0 ? Math.round(p.sent / seconds) : 0;
};
const replayLine = (p: any) => `${p.id}  ${p.state}  ${p.sent}/${p.total} events  ${rateOf(p)} events/s${p.error ? `  ${p.error}` : ''}\n`;

async function follow(c: Client, f: Format, id: string): Promise<number> {
  for (;;) {
    const p = (await c.call('GET', `/journal/replays/${enc(id)}`)).body;
    if (process.stderr.isTTY) process.stderr.write(`\r${replayLine(p).trimEnd()}   `);
    if (p.state !== 'running') {
      if (process.stderr.isTTY) process.stderr.write('\n');
      print(f, p, replayLine);
      return p.state === 'done' && !(p.summary?.rejected > 0) ? 0 : 1;
    }
    await sleep(500);
  }
}

export async function replayStart(g: Globals, o: { fromSeq?: number; toSeq?: number; since?: string; until?: string; agent?: string; dryRun?: boolean; follow?: boolean }): Promise<number | void> {
  return withClient(g, async (c, f) => {
    const body = { to: 'engine', from_seq: o.fromSeq, to_seq: o.toSeq, since: o.since, until: o.until, agent: o.agent, dry_run: o.dryRun };
    const r = await c.call('POST', '/journal/replay', { json: JSON.parse(JSON.stringify(body)) });
    if (o.follow) return follow(c, f, r.body.id);
    print(f, r.body, (v: any) => `started replay ${v.id} (comms-api replay status ${v.id} --follow)\n`);
  });
}

export async function replayStatus(g: Globals, id: string, o: { follow?: boolean }): Promise<number | void> {
  return withClient(g, async (c, f) => {
    if (o.follow) return follow(c, f, id);
    print(f, (await c.call('GET', `/journal/replays/${enc(id)}`)).body, replayLine);
  });
}

export async function replayList(g: Globals): Promise<void> {
  await withClient(g, async (c, f) => print(f, (await c.call('GET', '/journal/replays')).body, (v: any) => v.replays.map(replayLine).join('') || 'no replays since the server started\n'));
}

export async function replayCancel(g: Globals, id: string): Promise<void> {
  await withClient(g, async (c, f) => print(f, (await c.call('POST', `/journal/replays/${enc(id)}/cancel`)).body, replayLine));
}

export async function deadLettersDiscard(g: Globals, id: string): Promise<void> {
  await withClient(g, async (c, f) => print(f, (await c.call('POST', `/dead-letters/${enc(id)}/discard`)).body, (d: any) => `discarded dead letter ${d.id} (seq ${d.seq})\n`));
}

