// Commands that work on the data folder itself (no server needed; the same folder a running
// server uses: SQLite WAL, each append reads the chain tip in its own transaction).
import { randomBytes } from 'node:crypto';
import { loadConfig, type Config } from '../config.js';
import { createUser, CreateUser } from '../commands/createUser.js';
import { registerAgent, RegisterAgent } from '../commands/registerAgent.js';
import { createAgentKeyHasher, loadAgentKeySecret } from '../security/agentKeys.js';
import type { Journal } from '../journal/journal.js';
import type { RunningServer } from '../main.js';
import { journalVerdict, type VerifyOptions } from '../evidence/verifyCli.js';
import { openExistingDataFolder } from '../node/dataFolder.js';
import { deadLettersCommand, pruneCommand, replayCommand } from '../cliDrain.js';
import { readStdin } from './prompt.js';

export const configOf = (file: string | undefined): Config => loadConfig(process.env, file);

/** The data folder must exist and hold a journal (src/node/dataFolder.ts); only `serve`, `init` and `restore` create one. */
export async function withJournal<T>(cfg: Config, run: (j: Journal) => Promise<T>): Promise<T> {
  const journal = openExistingDataFolder(cfg);
  try {
    return await run(journal);
  } finally {
    await journal.close();
  }
}

export async function serve(configFile: string | undefined): Promise<number> {
  // a closed stdout (its reader gone) loses log lines, not the server's work
  process.stdout.removeAllListeners('error');
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
  // The handlers are in place before start-up: "serving on" is logged inside startServer, and a
  // SIGTERM/SIGINT that followed it before they were installed took Node's default action (the
  // process died at once: no "stopping"/"stopped", the data-folder lock left behind). A signal
  // during start-up is kept and the server stops gracefully as soon as it has started.
  // Ctrl-C under `npm start` arrives twice (from the terminal and forwarded by npm): under npm that
  // one extra SIGINT is the same request, whenever it arrives; otherwise a repeat within 2 s is.
  // A signal after that forces the exit.
  const underNpm = process.env.npm_lifecycle_event !== undefined;
  let server: RunningServer | null = null;
  let requested: string | null = null;
  let first = 0;
  let extraSigint = false;
  const stopNow = (sig: string) =>
    server!.stop().then(
      () => process.exit(0),
      (err) => {
        process.stderr.write(`stop failed after ${sig}: ${(err as Error).message}\n`);
        process.exit(1);
      },
    );
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
    requested = sig;
    if (server) void stopNow(sig);
  };
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  const { startServer } = await import('../main.js');
  server = await startServer(configOf(configFile));
  if (requested) void stopNow(requested);
  return -1; // keeps running
}

/** 32 letters and digits, from 24 random bytes (base64 without its two symbols, retried if short). */
export function generateAgentKey(): string {
  for (;;) {
    const k = randomBytes(48).toString('base64').replace(/[+/=]/g, '').slice(0, 32);
    if (k.length === 32) return k;
  }
}

export interface AgentAddOptions {
  uuid?: string;
  key?: string;
  keyStdin?: boolean;
  name?: string;
  groups?: string;
}

/** The agent to register: the key from --key, from stdin with --key-stdin, or generated (then printed once). */
export async function agentToAdd(o: AgentAddOptions): Promise<{ cmd: RegisterAgent; generated: boolean }> {
  const key = o.keyStdin ? (await readStdin()).trim() : (o.key ?? generateAgentKey());
  const cmd = RegisterAgent.parse({
    uuid: o.uuid,
    key,
    name: o.name,
    groups: o.groups ? o.groups.split(',').filter(Boolean) : undefined,
  });
  return { cmd, generated: !o.keyStdin && o.key === undefined };
}

export async function agentsAddLocal(cfg: Config, o: AgentAddOptions): Promise<unknown> {
  const { cmd, generated } = await agentToAdd(o);
  const agent = await withJournal(cfg, (j) => {
    // the key is HMAC'd with the node's agent-key secret (generated into <data>/keys on first use,
    // once the data folder is known to exist)
    const hasher = createAgentKeyHasher(loadAgentKeySecret(cfg.dataDir, cfg.agentKeySecretFile));
    return registerAgent({ ...j, hashKey: hasher.hash })(cmd, 'cli');
  });
  return generated ? { ...agent, key: cmd.key } : agent;
}

export async function userToAdd(name: string, role: string | undefined): Promise<CreateUser> {
  return CreateUser.parse({ name, role, password: await readStdin() });
}

export async function usersAddLocal(cfg: Config, name: string, role: string | undefined): Promise<unknown> {
  const cmd = await userToAdd(name, role);
  return withJournal(cfg, (j) => createUser(j)(cmd, 'cli'));
}

export const journalStatsLocal = (cfg: Config) => withJournal(cfg, async (j) => j.stats());

export const journalVerifyLocal = (cfg: Config, o: VerifyOptions = {}) => withJournal(cfg, (j) => journalVerdict(cfg, j, o));

/** Options as the data-folder commands of src/cliDrain.ts read them (`--from-seq 3`). */
export function asArgs(o: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined || v === false) continue;
    const flag = `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    if (v === true) out.push(flag);
    else out.push(flag, String(v));
  }
  return out;
}

export const pruneLocal = (cfg: Config, o: Record<string, unknown>) => withJournal(cfg, (j) => pruneCommand(cfg, j, asArgs(o)));
export const replayLocal = (cfg: Config, o: Record<string, unknown>) => withJournal(cfg, (j) => replayCommand(cfg, j, asArgs(o)));
export const deadLettersLocal = (cfg: Config, args: string[]) => withJournal(cfg, (j) => deadLettersCommand(cfg, j, args));
