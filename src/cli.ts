import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, type Config } from './config.js';
import { createUser, CreateUser } from './commands/createUser.js';
import { registerAgent, RegisterAgent } from './commands/registerAgent.js';
import { journalStats } from './journal/journalStats.js';
import { verifyCommand } from './evidence/verifyCli.js';
import { backupCommand, restoreCommand } from './node/backup.js';
import { initDataFolder, openExistingDataFolder } from './node/dataFolder.js';
import { startServer } from './main.js';
import { deadLettersCommand, pruneCommand, replayCommand } from './replay/drainCli.js';
import { ZodError } from 'zod';

const USAGE = `usage: comms-api [--config FILE] <command>

commands:
  serve                                   run the server (creates the data folder on first start)
  init                                    create the data folder and its journal without serving (for agents add before a first serve)
  agents add --uuid U --key K [--name N] [--groups a,b]
                                          register an agent; prints it as JSON
  users add NAME --role operator|auditor  create a user; the password is read from stdin
  journal stats                           sizes, head, per-sink checkpoints and lags
  journal verify [--receipt FILE] [--public-key PEM] [--against-indexer] [--node ID]
                                          check the hash chain against every signed head (and a receipt,
                                          the heads index); prints the signed head to keep as a receipt
  journal prune [--before-seq N] [--older-than DAYS] [--max-bytes B]
                                          remove a prefix every sink acknowledged; the chain stays verifiable
  replay --to engine [--from-seq N] [--to-seq M] [--since ISO] [--until ISO] [--agent U] [--dry-run] [--rate EPS]
                                          send a journal range to the engine again; prints a summary
  dead-letters list [--sink S] [--all]    items a sink refused, with the reason
  dead-letters retry ID                   send one again
  backup FILE                             online copy of the database (journal, signed heads) of a data folder, even while it serves
  restore FILE --keys DIR                 a backup into a new data folder (DIR: the keys folder of the node that made it)

Every command but serve, init and restore needs an existing data folder holding a journal.
`;

class UsageError extends Error {}

function config(values: { config?: string | undefined }): Config {
  return loadConfig(process.env, values.config);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

async function serve(cfg: Config): Promise<void> {
  const server = await startServer(cfg);
  process.stdout.write(`comms-api serving on ${server.url}\n`);
  // Ctrl-C under `npm start` arrives twice (from the terminal and forwarded by npm): under npm that
  // one extra SIGINT is the same request, whenever it arrives; otherwise a repeat within 2 s is.
  // A signal after that forces the exit.
  const underNpm = process.env.npm_lifecycle_event !== undefined;
  let first = 0;
  let extraSigint = false;
  const onSignal = (sig: string) => {
    if (first) {
      if (sig === 'SIGINT' && underNpm && !extraSigint) {
        extraSigint = true;
        return;
      }
      if (Date.now() - first < 2000 && !underNpm) return;
      process.exit(1);
    }
    first = Date.now();
    server.stop().then(
      () => process.exit(0),
      (err) => {
        process.stderr.write(`stop failed after ${sig}: ${(err as Error).message}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
}

async function agentsAdd(cfg: Config, args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { uuid: { type: 'string' }, key: { type: 'string' }, name: { type: 'string' }, groups: { type: 'string' } },
  });
  const cmd = RegisterAgent.parse({
    uuid: values.uuid,
    key: values.key,
    name: values.name,
    groups: values.groups ? values.groups.split(',').filter(Boolean) : undefined,
  });
  const journal = openExistingDataFolder(cfg);
  try {
    const agent = await registerAgent(journal)(cmd, 'cli');
    process.stdout.write(`${JSON.stringify(agent)}\n`);
  } finally {
    await journal.close();
  }
}

async function usersAdd(cfg: Config, args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { role: { type: 'string' } } });
  if (positionals.length !== 1) throw new UsageError('users add takes exactly one NAME');
  const cmd = CreateUser.parse({ name: positionals[0], role: values.role, password: await readStdin() });
  const journal = openExistingDataFolder(cfg);
  try {
    process.stdout.write(`${JSON.stringify(await createUser(journal)(cmd, 'cli'))}\n`);
  } finally {
    await journal.close();
  }
}

async function journalCommand(cfg: Config, args: string[]): Promise<number> {
  const journal = openExistingDataFolder(cfg);
  try {
    switch (args[0]) {
      case 'stats':
        process.stdout.write(`${JSON.stringify(journalStats(journal.db, journal.file), null, 2)}\n`);
        return 0;
      case 'verify':
        return await verifyCommand(cfg, journal, args.slice(1));
      case 'prune':
        return await pruneCommand(cfg, journal, args.slice(1));
      default:
        throw new UsageError(`unknown journal command: ${args[0] ?? '(none)'}`);
    }
  } finally {
    await journal.close();
  }
}

export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { config: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    allowPositionals: true,
    strict: false,
  });
  const rest = argv.filter((a, i) => a !== '--config' && argv[i - 1] !== '--config' && !a.startsWith('--config='));
  const [command, sub] = positionals as string[];
  if (values.help || !command) {
    process.stdout.write(USAGE);
    return command || values.help ? 0 : 2;
  }
  const cfg = config(values as { config?: string });
  const after = (word: string) => rest.slice(rest.indexOf(word) + 1);
  switch (command) {
    case 'serve':
      await serve(cfg);
      return -1;
    case 'init':
      return initDataFolder(cfg);
    case 'agents':
      if (sub !== 'add') throw new UsageError(`unknown agents command: ${sub ?? '(none)'}`);
      await agentsAdd(cfg, after('add'));
      return 0;
    case 'users':
      if (sub !== 'add') throw new UsageError(`unknown users command: ${sub ?? '(none)'}`);
      await usersAdd(cfg, after('add'));
      return 0;
    case 'journal':
      return journalCommand(cfg, after('journal'));
    case 'replay':
    case 'dead-letters': {
      const journal = openExistingDataFolder(cfg);
      try {
        const run = command === 'replay' ? replayCommand : deadLettersCommand;
        return await run(cfg, journal, after(command));
      } finally {
        await journal.close();
      }
    }
    case 'backup':
      return backupCommand(cfg, after('backup'));
    case 'restore':
      return restoreCommand(cfg, after('restore'));
    default:
      throw new UsageError(`unknown command: ${command}`);
  }
}

export function describeError(err: unknown): string {
  if (err instanceof ZodError) {
    const i = err.issues[0]!;
    return `invalid ${i.path.join('.') || 'input'}: ${i.message}`;
  }
  if (err instanceof ConfigError || err instanceof UsageError) return err.message;
  if (err instanceof TypeError && (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) return err.message;
  return (err as Error).message ?? String(err);
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`comms-api: ${describeError(err)}\n`);
    if (err instanceof UsageError) process.stderr.write(USAGE);
    process.exitCode = err instanceof UsageError ? 2 : 1;
  },
);
