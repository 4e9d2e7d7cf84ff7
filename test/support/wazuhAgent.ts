// Test helper: the real, unmodified Wazuh agent binary of ../shared/wazuh-agent (README there).
//
//   assertAgentRuns();                                   // throws a clear error when the binary cannot run
//   const a = createAgentHome({ serverUrl, logFile });   // temp path.data/path.run, config, norm_config.json
//   await a.enroll({ url, user, password, name });       // wazuh-agent --enroll
//   a.start(); … await a.stop();                          // its own process group (restart re-executes it)
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './server.js';

/**
 * The folder of the binary: `WAZUH_AGENT_DIR`, else `../shared/wazuh-agent` beside the checkout
 * (the main checkout), else two levels up (a worktree in `<root>/wt/<name>`).
 */
export const AGENT_DIR =
  process.env.WAZUH_AGENT_DIR ??
  [join(ROOT, '../shared/wazuh-agent'), join(ROOT, '../../shared/wazuh-agent')].find((d) => existsSync(join(d, 'wazuh-agent'))) ??
  join(ROOT, '../shared/wazuh-agent');
export const AGENT_BIN = join(AGENT_DIR, 'wazuh-agent');
/** Compiled into the agent: where set-group and fetch-config put group files. */
export const SHARED_DIR = '/etc/wazuh-agent/shared';

/** Throws (never skips) when the binary is missing or cannot start, saying how to fix it. */
export function assertAgentRuns(): void {
  if (!existsSync(AGENT_BIN)) throw new Error(`the Wazuh agent binary is missing: ${AGENT_BIN} (see ../shared/wazuh-agent/README.md)`);
  const r = spawnSync(AGENT_BIN, ['--help'], { encoding: 'utf8', timeout: 30_000 });
  if (r.status !== 0 || !/--enroll/.test(r.stdout)) {
    throw new Error(
      `the Wazuh agent binary cannot run (exit ${r.status}, ${r.error?.message ?? ''}): ${(r.stderr || r.stdout).slice(0, 500)}\n` +
        `install its runtime libraries with: bash ${join(AGENT_DIR, 'install-runtime.sh')}`,
    );
  }
}

export interface AgentHome {
  dir: string;
  config: string;
  logFile: string;
  output(): string;
  enroll(opts: { url: string; user: string; password: string; name: string }): Promise<{ code: number | null; output: string }>;
  start(): void;
  stop(): Promise<void>;
  remove(): void;
}

const OUTPUT_LIMIT = 2 * 1024 * 1024;

/** A temp folder for one agent: config pointing every path there, short intervals, inventory on, SCA off. */
export function createAgentHome(opts: { serverUrl: string }): AgentHome {
  const dir = mkdtempSync(join(tmpdir(), 'wazuh-agent-'));
  const data = join(dir, 'var');
  const run = join(dir, 'run');
  mkdirSync(data);
  mkdirSync(run);
  copyFileSync(join(AGENT_DIR, 'norm_config.json'), join(data, 'norm_config.json'));
  const logFile = join(dir, 'watched.log');
  writeFileSync(logFile, '');
  const config = join(dir, 'wazuh-agent.yml');
  writeFileSync(
    config,
    [
      'agent:',
      `  server_url: ${opts.serverUrl}`,
      '  verification_mode: none',
      '  retry_interval: 2s',
      `  path.data: ${data}`,
      `  path.run: ${run}`,
      'events:',
      '  batch_interval: 1s',
      '  batch_size: 1MB',
      'inventory:',
      '  enabled: true',
      '  scan_on_start: true',
      'logcollector:',
      '  enabled: true',
      '  localfiles:',
      `    - ${logFile}`,
      '  read_interval: 500ms',
      'sca:',
      '  enabled: false',
      '',
    ].join('\n'),
  );
  let out = '';
  const keep = (d: Buffer) => {
    out += d.toString('utf8');
    if (out.length > OUTPUT_LIMIT) out = out.slice(-OUTPUT_LIMIT);
  };
  let proc: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  return {
    dir,
    config,
    logFile,
    output: () => out,
    enroll({ url, user, password, name }) {
      return new Promise((resolve) => {
        const p = spawn(AGENT_BIN, ['--config-file', config, '--enroll', '--enroll-url', url, '--user', user, '--password', password, '--name', name, '--verification-mode', 'none'], {
          cwd: dir,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let text = '';
        p.stdout.on('data', (d) => (text += d));
        p.stderr.on('data', (d) => (text += d));
        const timer = setTimeout(() => p.kill('SIGKILL'), 120_000);
        p.on('close', (code) => {
          clearTimeout(timer);
          resolve({ code, output: text });
        });
      });
    },
    start() {
      // detached: its own process group, which `restart` (a re-exec) keeps, so stop() reaches it
      proc = spawn(AGENT_BIN, ['--config-file', config], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      proc.stdout!.on('data', keep);
      proc.stderr!.on('data', keep);
      exited = new Promise((resolve) => proc!.once('close', () => resolve()));
    },
    async stop() {
      const pid = proc?.pid;
      if (!pid) return;
      const signal = (s: NodeJS.Signals) => {
        try {
          process.kill(-pid, s);
        } catch {
          /* already gone */
        }
      };
      signal('SIGTERM');
      const killed = new Promise<void>((resolve) => setTimeout(() => { signal('SIGKILL'); resolve(); }, 15_000).unref());
      await Promise.race([exited, killed]);
      signal('SIGKILL'); // the group: a re-executed agent is not the child we spawned
      proc = null;
    },
    remove() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
