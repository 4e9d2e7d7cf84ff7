// Actions of the data-folder commands: on the local data folder, or over HTTP with --server.
import type { Globals } from './client.js';
import { UsageError } from './errors.js';
import { fields, formatOf, print, table } from './output.js';

const json = (v: unknown) => process.stdout.write(`${JSON.stringify(v, null, 2)}\n`);
const local = () => import('./localCommands.js');
const client = async (g: Globals) => {
  const [{ openClient }, { configOf }] = await Promise.all([import('./client.js'), local()]);
  return openClient(g, () => configOf(g.config).adminSocket);
};

export async function serve(g: Globals): Promise<number> {
  return (await local()).serve(g.config);
}

export async function agentsAdd(g: Globals, o: { uuid?: string; key?: string; keyStdin?: boolean; name?: string; groups?: string }): Promise<void> {
  const m = await local();
  if (o.key !== undefined && o.keyStdin) throw new UsageError('--key and --key-stdin: give one of them, not both');
  if (!g.server) return void json(await m.agentsAddLocal(m.configOf(g.config), o));
  const { cmd, generated } = await m.agentToAdd(o);
  const c = await client(g);
  try {
    const r = await c.call('POST', '/agents', { json: cmd });
    json(generated ? { ...r.body, key: cmd.key } : r.body);
  } finally {
    await c.close();
  }
}

export async function usersAdd(g: Globals, name: string, o: { role: string }): Promise<void> {
  const m = await local();
  if (!g.server) return void json(await m.usersAddLocal(m.configOf(g.config), name, o.role));
  const cmd = await m.userToAdd(name, o.role);
  const c = await client(g);
  try {
    json((await c.call('POST', '/users', { json: cmd })).body);
  } finally {
    await c.close();
  }
}

async function viaServer(g: Globals, path: string): Promise<any> {
  const c = await client(g);
  try {
    return (await c.call('GET', path)).body;
  } finally {
    await c.close();
  }
}

export async function journalStats(g: Globals): Promise<void> {
  const m = await local();
  const stats = g.server ? await viaServer(g, '/journal/stats') : await m.journalStatsLocal(m.configOf(g.config));
  print(formatOf(g.output), stats, (s: any) => fields({ head_seq: s.head_seq, entries: s.entries, size_bytes: s.size_bytes, dead_letters: s.dead_letters, checkpoints: s.checkpoints }));
}

export async function journalVerify(g: Globals): Promise<number> {
  const m = await local();
  const result = g.server ? await viaServer(g, '/journal/verify') : await m.journalVerifyLocal(m.configOf(g.config));
  json(result);
  return result.ok ? 0 : 1;
}

export async function journalPrune(g: Globals, o: Record<string, unknown>): Promise<number> {
  if (g.server) throw new UsageError('journal prune works on the data folder only (run it on the server host, without --server)');
  const m = await local();
  return m.pruneLocal(m.configOf(g.config), o);
}

export async function replay(g: Globals, o: Record<string, unknown>): Promise<number> {
  if (g.server) throw new UsageError('with --server, use `comms-api replay start` (the server replays; `replay` alone works on the data folder)');
  if (o.to === undefined) throw new UsageError('--to is required (--to engine), or use `replay start|status|list|cancel`');
  const m = await local();
  return m.replayLocal(m.configOf(g.config), o);
}

const deadLetterColumns = [
  { header: 'id', value: (d: any) => d.id },
  { header: 'sink', value: (d: any) => d.sink },
  { header: 'seq', value: (d: any) => d.seq },
  { header: 'created', value: (d: any) => d.created_at },
  { header: 'resolved', value: (d: any) => d.resolved },
  { header: 'reason', value: (d: any) => String(d.reason).slice(0, 80) },
];

async function listDead(g: Globals, o: { sink?: string; all?: boolean }): Promise<any[]> {
  if (!g.server) {
    const m = await local();
    const cfg = m.configOf(g.config);
    // the data-folder command prints JSON itself; read the rows the same way, quietly
    const { openJournal } = await import('../journal/journal.js');
    const { listDeadLetters } = await import('../queries/deadLetters.js');
    const j = openJournal({ dataDir: cfg.dataDir, quotaBytes: cfg.journalMaxBytes });
    try {
      return listDeadLetters(j.db, { sink: o.sink, all: o.all ?? false, limit: 1000 });
    } finally {
      await j.close();
    }
  }
  const c = await client(g);
  try {
    return (await c.call('GET', '/dead-letters', { query: { sink: o.sink, all: o.all, limit: 1000 } })).body.dead_letters;
  } finally {
    await c.close();
  }
}

export async function deadLettersList(g: Globals, o: { sink?: string; all?: boolean }): Promise<void> {
  print(formatOf(g.output), { dead_letters: await listDead(g, o) }, (v) => table(v.dead_letters, deadLetterColumns));
}

async function retryOne(g: Globals, id: number): Promise<unknown> {
  if (!g.server) {
    const m = await local();
    const code = await m.deadLettersLocal(m.configOf(g.config), ['retry', String(id)]);
    return code;
  }
  const c = await client(g);
  try {
    json((await c.call('POST', `/dead-letters/${id}/retry`)).body);
    return 0;
  } finally {
    await c.close();
  }
}

const deadLetterId = (id: string): number => {
  if (!/^[1-9]\d*$/.test(id)) throw new UsageError(`dead letter ID must be a positive whole number, got "${id}"`);
  return Number(id);
};

export async function deadLettersRetry(g: Globals, id: string): Promise<number> {
  await retryOne(g, deadLetterId(id));
  return 0;
}

/** Retries every open dead letter in turn; exit 1 if any is still refused. */
export async function deadLettersRetryAll(g: Globals, o: { sink?: string }): Promise<number> {
  const open = await listDead(g, { ...o, all: false });
  let failed = 0;
  for (const d of open) {
    try {
      await retryOne(g, d.id);
    } catch (err) {
      failed += 1;
      process.stderr.write(`dead letter ${d.id}: ${(err as Error).message}\n`);
    }
  }
  process.stderr.write(`retried ${open.length - failed} of ${open.length}\n`);
  return failed > 0 ? 1 : 0;
}
