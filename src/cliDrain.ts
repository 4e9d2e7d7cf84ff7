// `comms-api replay …`, `comms-api journal prune …`, `comms-api dead-letters list|retry ID`:
// they work on the data folder a running server uses (SQLite allows both; the busy timeout waits).
import cliProgress from 'cli-progress';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import type { Config } from './config.js';
import { pruneJournal } from './commands/pruneJournal.js';
import { retryDeadLetter } from './pipelines/retryDeadLetter.js';
import { AgentId } from './journal/ids.js';
import type { Journal } from './journal/journal.js';
import { createEngineResender, createIndexerResender, type Resender } from './pipelines/sinkSenders.js';
import { createStatefulResultsWriter } from './projections/statefulBatchesProjection.js';
import { closeSinkClients, createSinkClients } from './clients.js';
import { replayToEngine } from './pipelines/replayToEngine.js';

const count = z.coerce.number().int().min(0);
const iso = z.iso.datetime({ offset: true }).transform((s) => Date.parse(s));
const ReplayArgs = z.object({
  to: z.literal('engine'),
  'from-seq': count.optional(),
  'to-seq': count.optional(),
  since: iso.optional(),
  until: iso.optional(),
  agent: AgentId.optional(),
  'dry-run': z.boolean().optional(),
  rate: count.optional(),
});

const write = (v: unknown): void => void process.stdout.write(`${JSON.stringify(v, null, 2)}\n`);

/** `replay --to engine [--from-seq N] [--to-seq M] [--since ISO] [--until ISO] [--agent U] [--dry-run] [--rate N]` */
export async function replayCommand(cfg: Config, journal: Journal, args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      to: { type: 'string' },
      'from-seq': { type: 'string' },
      'to-seq': { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      agent: { type: 'string' },
      'dry-run': { type: 'boolean' },
      rate: { type: 'string' },
    },
  });
  const a = ReplayArgs.parse(values);
  const { engine: client } = createSinkClients({ ...cfg, indexerUrl: undefined }, 'cli');
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: 'replay {bar} {percentage}% | {value}/{total} events | {eta_formatted}', noTTYOutput: false },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  try {
    const summary = await replayToEngine({
      db: journal.db,
      client,
      range: { fromSeq: a['from-seq'], toSeq: a['to-seq'], since: a.since, until: a.until, agent: a.agent },
      dryRun: a['dry-run'] ?? false,
      rate: a.rate ?? cfg.replayRate,
      onProgress: ({ total, sent }) => {
        if (!started && !a['dry-run']) {
          bar.start(total, 0);
          started = true;
        }
        if (started) bar.update(sent);
      },
    });
    if (started) bar.stop();
    write(summary);
    return summary.rejected > 0 ? 1 : 0;
  } finally {
    if (started) bar.stop();
    client.close();
  }
}

/** `journal prune [--before-seq N] [--older-than DAYS] [--max-bytes B]` */
export async function pruneCommand(cfg: Config, journal: Journal, args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { 'before-seq': { type: 'string' }, 'older-than': { type: 'string' }, 'max-bytes': { type: 'string' } },
  });
  const v = z
    .object({ 'before-seq': count.optional(), 'older-than': count.optional(), 'max-bytes': count.optional() })
    .refine((o) => Object.values(o).some((x) => x !== undefined), 'give --before-seq, --older-than or --max-bytes')
    .parse(values);
  const sinks = cfg.indexerUrl ? ['engine', 'indexer'] : ['engine'];
  const result = await pruneJournal({ db: journal.db, commit: journal.commit, sinks })(
    { beforeSeq: v['before-seq'], olderThanDays: v['older-than'], maxBytes: v['max-bytes'] },
    'cli',
  );
  write(result);
  return 0;
}

/** `dead-letters list [--sink S] [--all]` and `dead-letters retry ID` */
export async function deadLettersCommand(cfg: Config, journal: Journal, args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'list') {
    const { values } = parseArgs({ args: rest, options: { sink: { type: 'string' }, all: { type: 'boolean' }, limit: { type: 'string' } } });
    const limit = count.default(1000).parse(values.limit);
    write({ dead_letters: journal.deadLetters.list({ sink: values.sink, all: values.all ?? false, limit }) });
    return 0;
  }
  if (sub === 'retry') {
    const id = z.coerce.number().int().min(1).parse(rest[0]);
    const clients = createSinkClients(cfg, 'cli');
    const { engine, indexer } = clients;
    const resenders: Partial<Record<string, Resender>> = { engine: createEngineResender(engine) };
    if (indexer) resenders.indexer = createIndexerResender(indexer);
    try {
      const retry = retryDeadLetter({ db: journal.db, commit: journal.commit, resenders, recordStatefulResults: createStatefulResultsWriter(journal.db) });
      write(await retry(id, 'cli'));
      return 0;
    } finally {
      await closeSinkClients(clients);
    }
  }
  throw new Error(`unknown dead-letters command: ${sub ?? '(none)'} (list or retry ID)`);
}
