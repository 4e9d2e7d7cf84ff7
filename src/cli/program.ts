import { Command, InvalidArgumentError, Option } from 'commander';
import type { Globals } from './client.js';

/**
 * The command tree. Only commander and this file load for `--help`, `--version` and usage
 * errors: each action imports what it needs (the server for `serve`, the journal for the
 * data-folder commands, the HTTP client for the others).
 */
type Action = (g: Globals, ...args: any[]) => Promise<number | void>;
export let exitCode = 0;

function run(action: () => Promise<{ default: Action } | Action>, pick?: string) {
  return async function (this: Command, ...args: unknown[]) {
    const cmd = args[args.length - 1] as Command;
    const g = cmd.optsWithGlobals() as Globals;
    const mod = (await action()) as unknown as Record<string, Action>;
    const fn = pick ? mod[pick]! : (mod as unknown as Action);
    const code = await fn(g, ...args.slice(0, -1));
    if (typeof code === 'number') exitCode = code;
  };
}
const remote = (name: string) => run(() => import('./remoteCommands.js') as never, name);
const local = (name: string) => run(() => import('./localActions.js') as never, name);

const examples = (cmd: Command, lines: string[]): Command =>
  cmd.addHelpText('after', `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`);

const int = (what: string) => (v: string) => {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`${what} must be a whole number, got "${v}"`);
  return Number(v);
};

export function createProgram(version: string): Command {
  const program = new Command('comms-api')
    .description('The comms-api server and its operator tool: talks to the server of the data folder (admin socket) or to --server URL.')
    .version(version, '-V, --version')
    .option('--config <file>', 'JSON config file (environment variables override it)')
    .option('--server <url>', 'talk to this server over HTTPS (after `comms-api login`) instead of the local admin socket')
    .option('--ca <file>', 'PEM file of the CA (or self-signed certificate) to trust for --server')
    .option('--insecure', 'do not verify the certificate of --server (development only)')
    .addOption(new Option('-o, --output <format>', 'table (default on a terminal) or json (default when piped)').choices(['table', 'json']))
    .option('-y, --yes', 'do not ask for confirmation')
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();
  program.configureHelp({ sortSubcommands: false, showGlobalOptions: true });
  program.addHelpText(
    'after',
    '\nData-folder commands (serve, agents add, users add, journal, replay, dead-letters) work without a server;\n' +
      'the others go through <data>/admin.sock (operator rights) or --server. Exit codes: 0 ok, 1 failure, 2 usage.\n',
  );

  examples(program.command('serve').description('run the server (what `npm start` runs); creates the data folder on first start').action(local('serve')), ['comms-api serve', 'COMMS_API_PORT=27443 comms-api --config prod.json serve']);
  program.command('init').description('create the data folder, its journal and head key without serving (every other data-folder command refuses a folder without a journal)').action(local('init'));
  examples(
    program.command('backup').description("SQLite online backup of the data folder's database (journal, signed heads), consistent while it serves").argument('<file>').action(local('backup')),
    ['comms-api backup /backups/comms-2026-12-01.db'],
  );
  examples(
    program
      .command('restore')
      .description('a backup into a new data folder')
      .argument('<file>')
      .option('--keys <dir>', 'the keys/ folder of the node that made the backup (its head key signed the journal)')
      .action(local('restore')),
    ['COMMS_API_DATA_DIR=/srv/restored comms-api restore /backups/comms.db --keys /backups/keys'],
  );

  examples(
    program
      .command('login')
      .description('log in to --server as a user; the token is kept in ~/.config/comms-api/credentials.json (0600) and renewed before it expires')
      .requiredOption('-u, --username <name>', 'the user name')
      .action(remote('login')),
    ['comms-api login --server https://comms.example:27000 --username olga', "echo \"$PW\" | comms-api login --server https://127.0.0.1:27000 --ca ca.pem -u olga"],
  );
  program.command('logout').description('forget the stored token of --server').action(remote('logout'));

  const agents = program.command('agents').description('agents: register, list, inspect, delete');
  examples(
    agents
      .command('add')
      .description('register an agent (on the data folder, or on --server); without --key a key is generated and printed once')
      .requiredOption('--uuid <uuid>', "the agent's uuid")
      .option('--key <key>', 'its key, 32 letters and digits (visible in `ps`: prefer --key-stdin or a generated key)')
      .option('--key-stdin', 'read the key from stdin')
      .option('--name <name>', 'display name (default: the uuid)')
      .option('--groups <a,b>', 'comma-separated groups')
      .action(local('agentsAdd')),
    ['comms-api agents add --uuid web-01 --groups linux,web', 'pass show agents/web-01 | comms-api agents add --uuid web-01 --key-stdin'],
  );
  examples(
    agents
      .command('list')
      .description('list agents with their status (filters combine)')
      .addOption(new Option('--status <status>', 'only agents in this state').choices(['active', 'disconnected', 'never_connected']))
      .option('--group <group>', 'members of a group')
      .option('--os <os>', 'host os name or platform (ubuntu, linux, windows...)')
      .option('--agent-version <v>', 'agents reporting this version')
      .option('-q, --prefix <prefix>', 'name or uuid starting with this')
      .option('--sort <key>', 'uuid, name, registered_at or last_seen; prefix - for descending', 'uuid')
      .option('--limit <n>', 'at most this many (default every agent)', int('--limit'))
      .action(remote('agentsList')),
    ['comms-api agents list --status disconnected --group web', 'comms-api agents list -q web- -o json | jq -r ".agents[].uuid"'],
  );
  agents.command('get').description('one agent').argument('<uuid>').action(remote('agentsGet'));
  agents.command('delete').description('delete an agent: its tokens are refused at once').argument('<uuid>').action(remote('agentsDelete'));

  const commands = program.command('commands').description('commands: issue, follow, cancel, history');
  examples(
    commands
      .command('issue')
      .description('issue a command to an agent, a group or all agents (asks for confirmation for a group or all on a terminal)')
      .argument('<action>', 'a catalogue action: restart, upgrade, set-group, fetch-config, refresh...')
      .option('--agent <uuid>', 'target one agent')
      .option('--group <group>', 'target every member of a group')
      .option('--all', 'target every agent')
      .option('--args <json>', 'the action arguments as JSON', '{}')
      .option('--timeout <seconds>', 'seconds before targets expire (default: the action’s)', int('--timeout'))
      .option('--watch', 'then follow the per-agent states until every target is done')
      .action(remote('commandsIssue')),
    ['comms-api commands issue restart --agent web-01', 'comms-api commands issue upgrade --group web --args \'{"package":"agent-4.9.deb"}\' --yes --watch'],
  );
  commands.command('get').description('a command and the state of each target').argument('<id>').action(remote('commandsGet'));
  examples(commands.command('watch').description('follow the per-agent states until every target is done (exit 1 unless all succeeded)').argument('<id>').option('--interval <ms>', 'poll interval', int('--interval'), 1000).action(remote('commandsWatch')), ['comms-api commands watch 0mj2k3x1a-0001ab12cd34']);
  commands.command('cancel').description('cancel a command: targets not finished become cancelled').argument('<id>').action(remote('commandsCancel'));
  examples(
    commands
      .command('history')
      .description('every per-agent state change, in journal order')
      .option('--agent <uuid>')
      .option('--user <name>', 'the actor (a user name, admin-socket, api-key:<id>...)')
      .option('--action <name>')
      .option('--command <id>')
      .addOption(new Option('--status <state>').choices(['pending', 'delivered', 'success', 'failure', 'expired', 'cancelled']))
      .option('--since <iso>', 'from this time (ISO 8601)')
      .option('--until <iso>', 'up to this time (ISO 8601)')
      .option('--limit <n>', 'at most this many items (default 100)', int('--limit'), 100)
      .option('--ndjson', 'every matching item as NDJSON (an export)')
      .action(remote('commandsHistory')),
    ['comms-api commands history --agent web-01 --since 2026-12-01T00:00:00Z', 'comms-api commands history --ndjson > history.ndjson'],
  );

  const groups = program.command('groups').description("groups' configurations");
  groups.command('list').description('groups with members, and whether they have a configuration').action(remote('groupsList'));
  examples(groups.command('get').description("a group's configuration (JSON on stdout, its ETag on stderr)").argument('<group>').action(remote('groupsGet')), ['comms-api groups get web > web.json']);
  examples(
    groups
      .command('set')
      .description("replace a group's configuration with a JSON file; sends the ETag it read (or --etag), a concurrent change is reported")
      .argument('<group>')
      .argument('<file>', 'JSON file (- for stdin)')
      .option('--etag <etag>', 'the ETag your edit started from (from `groups get`)')
      .action(remote('groupsSet')),
    ['comms-api groups get web > web.json && $EDITOR web.json && comms-api groups set web web.json'],
  );

  const packages = program.command('packages').description('packages agents download for upgrades');
  examples(packages.command('upload').description('upload a file (progress bar on a terminal)').argument('<file>').option('--name <name>', 'package name (default: the file name)').action(remote('packagesUpload')), ['comms-api packages upload ./agent-4.9.deb']);
  packages.command('list').description('stored packages').action(remote('packagesList'));
  packages.command('delete').description('delete a package').argument('<name>').action(remote('packagesDelete'));

  const catalogue = program.command('catalogue').alias('catalog').description('the command catalogue');
  catalogue.command('list').description('every action').action(remote('catalogueList'));
  catalogue.command('get').description('one action').argument('<name>').action(remote('catalogueGet'));
  examples(catalogue.command('put').description('create or replace an action from a JSON file ({description, args, default_timeout, target_types})').argument('<name>').argument('<file>', 'JSON file (- for stdin)').action(remote('cataloguePut')), ['comms-api catalogue put scan scan.json']);

  const users = program.command('users').description('operators and auditors');
  examples(
    users
      .command('add')
      .description('create (or reset) a user; the password is read from stdin (data folder, or --server)')
      .argument('<name>')
      .addOption(new Option('--role <role>', 'operator or auditor').choices(['operator', 'auditor']).makeOptionMandatory())
      .action(local('usersAdd')),
    ["echo 'a long operator password' | comms-api users add olga --role operator"],
  );
  users.command('list').description('users and whether they are disabled').action(remote('usersList'));
  users.command('disable').description('refuse its tokens at once and its logins').argument('<name>').action(remote('usersDisable'));
  users.command('enable').description('let a disabled user log in again').argument('<name>').action(remote('usersEnable'));
  users.command('delete').description('delete a user; its tokens are refused at once').argument('<name>').action(remote('usersDelete'));

  const keys = program.command('api-keys').description('API keys for automation (Authorization: Bearer <key>)');
  examples(
    keys
      .command('create')
      .description('create a key (shown once)')
      .argument('<name>')
      .addOption(new Option('--role <role>', 'operator, auditor, or metrics (can only scrape /metrics)').choices(['operator', 'auditor', 'metrics']).makeOptionMandatory())
      .action(remote('apiKeysCreate')),
    ['comms-api api-keys create prometheus --role metrics'],
  );
  keys.command('list').description('keys (never the keys themselves)').action(remote('apiKeysList'));
  keys.command('revoke').description('refuse a key at once').argument('<id>').action(remote('apiKeysRevoke'));

  const replay = examples(
    program
      .command('replay')
      .description('send a journal range to the engine again, from the data folder (progress bar, summary JSON); or start/follow one in the server')
      .option('--to <sink>', 'engine')
      .option('--from-seq <n>')
      .option('--to-seq <n>')
      .option('--since <iso>')
      .option('--until <iso>')
      .option('--agent <uuid>')
      .option('--dry-run', 'only count')
      .option('--rate <eps>', 'events per second at most')
      .action(local('replay')),
    ['comms-api replay --to engine --since 2026-12-01T10:00:00Z --until 2026-12-01T11:00:00Z', 'comms-api replay start --from-seq 1000 --follow'],
  );
  replay
    .command('start')
    .description('start a replay in the server')
    .option('--from-seq <n>', '', int('--from-seq'))
    .option('--to-seq <n>', '', int('--to-seq'))
    .option('--since <iso>')
    .option('--until <iso>')
    .option('--agent <uuid>')
    .option('--dry-run', 'only count')
    .option('--follow', 'show its progress until it ends')
    .action(remote('replayStart'));
  replay.command('status').description('progress and rate of a replay').argument('<id>').option('--follow', 'until it ends').action(remote('replayStatus'));
  replay.command('list').description('replays the server ran since it started').action(remote('replayList'));
  replay.command('cancel').description('stop a running replay').argument('<id>').action(remote('replayCancel'));

  const dead = program.command('dead-letters').description('items a sink refused (data folder, or --server)');
  dead.command('list').description('open dead letters, with the reason').addOption(new Option('--sink <sink>').choices(['engine', 'indexer'])).option('--all', 'resolved ones too').action(local('deadLettersList'));
  dead.command('retry').description('send one again (exit 1 with "still failing: …" when refused again)').argument('<id>').action(local('deadLettersRetry'));
  dead.command('retry-all').description('send every open one again').addOption(new Option('--sink <sink>').choices(['engine', 'indexer'])).action(local('deadLettersRetryAll'));
  dead.command('discard').description('give up on one: resolved without sending it (journaled)').argument('<id>').action(remote('deadLettersDiscard'));

  const journal = program.command('journal').description('the journal (data folder, or --server for stats and verify)');
  journal.command('stats').description('head seq, entries, size, per-sink checkpoints and lag, dead letters').action(local('journalStats'));
  examples(
    journal
      .command('verify')
      .description('check the chain against every signed head; prints the signed head (a receipt); exit 1 with first_untrusted_seq when anything cannot be trusted')
      .option('--receipt <file>', 'also prove the journal still holds the entry of a receipt kept from an earlier verify')
      .option('--public-key <pem>', "verify with this copy of the node's head public key")
      .option('--against-indexer', 'also check against the heads in the comms-journal-heads index')
      .option('--node <id>', 'the node whose heads to check (default: this data folder\'s)')
      .action(local('journalVerify')),
    ['comms-api journal verify > receipt.json', 'comms-api journal verify --receipt receipt.json', 'comms-api journal verify --against-indexer'],
  );
  examples(
    journal
      .command('prune')
      .description('remove a prefix every sink acknowledged; the chain stays verifiable')
      .option('--before-seq <n>')
      .option('--older-than <days>')
      .option('--max-bytes <bytes>')
      .action(local('journalPrune')),
    ['comms-api journal prune --older-than 30'],
  );

  examples(
    program
      .command('audit')
      .description('configuration, package, catalogue, user, API key and agent changes with actor and time')
      .addOption(new Option('--kind <kind>').choices(['configuration', 'package', 'catalog', 'user', 'api-key', 'agent', 'journal']))
      .option('--actor <actor>')
      .option('--subject <subject>')
      .option('--since <iso>')
      .option('--until <iso>')
      .option('--limit <n>', 'at most this many items', int('--limit'), 100)
      .option('--ndjson', 'every matching item as NDJSON (an export)')
      .action(remote('audit')),
    ['comms-api audit --kind user', 'comms-api audit --ndjson > audit.ndjson'],
  );

  examples(
    program
      .command('completion')
      .description('print a shell completion script')
      .argument('[shell]', 'bash or zsh', 'bash')
      .action((shell: string) => {
        return import('./completion.js').then((m) => void process.stdout.write(m.completionScript(program, shell)));
      }),
    ['source <(comms-api completion bash)', 'comms-api completion zsh > "${fpath[1]}/_comms-api"'],
  );
  return program;
}
