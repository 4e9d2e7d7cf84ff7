// Commands that work on the data folder itself (no server needed; the same folder a running
// server uses: SQLite WAL, each append reads the chain tip in its own transaction).
import { randomBytes } from 'node:crypto';
import { loadConfig, type Config } from '../config.js';
import { createUser, CreateUser } from '../commands/createUser.js';
import { registerAgent, RegisterAgent } from '../commands/registerAgent.js';
import { openJournal, type Journal } from '../journal/journal.js';
import { createProjections } from '../projections/index.js';
import { verifyChain } from '../journal/verifyChain.js';
import { deadLettersCommand, pruneCommand, replayCommand } from '../cliDrain.js';
import { readStdin } from './prompt.js';

export const configOf = (file: string | undefined): Config => loadConfig(process.env, file);

async function withJournal<T>(cfg: Config, run: (j: Journal) => Promise<T>): Promise<T> {
  // the data folder is made private before anything writes to it (`serve` does it itself, and logs why)
  const { secureDataDir } = await import('../security/dataDir.js');
  for (const warning of secureDataDir(cfg.dataDir)) process.stderr.write(`comms-api: warning: ${warning}\n`);
  const journal = openJournal({ projections: createProjections, dataDir: cfg.dataDir, quotaBytes: cfg.journalMaxBytes });
  try {
    return await run(journal);
  } finally {
    await journal.close();
  }
}

export async function serve(configFile: string | undefined): Promise<number> {
  const { startServer } = await import('../main.js');
  const server = await startServer(configOf(configFile));
  let signals = 0;
  const onSignal = (sig: string) => {
    signals += 1;
    if (signals > 1) process.exit(1);
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
  const agent = await withJournal(cfg, (j) => registerAgent(j)(cmd, 'cli'));
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

export async function journalVerifyLocal(cfg: Config): Promise<{ ok: boolean }> {
  return withJournal(cfg, async (j) => {
    const result = verifyChain(j.db, (n) => process.stderr.isTTY && process.stderr.write(`\rverified ${n} entries`));
    if (process.stderr.isTTY) process.stderr.write('\r');
    return result;
  });
}

/** Options as the data-folder commands of src/replay/drainCli.ts read them (`--from-seq 3`). */
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
