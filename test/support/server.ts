import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type Config } from '../../src/config.js';
import { startServer } from '../../src/main.js';

export const ROOT = new URL('../..', import.meta.url).pathname;
export const AGENT_KEY = 'abcdefghijklmnopqrstuvwxyz012345';

export function tempDir(prefix = 'comms-api-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export interface TestServer {
  url: string;
  /** The metrics-only listener, with COMMS_API_METRICS_PORT. */
  metricsUrl?: string;
  api: string;
  dataDir: string;
  config: Config;
  stop(): Promise<void>;
}

/** The real server, in this process, plain HTTP on an ephemeral loopback port, fresh data folder. */
export async function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  const dataDir = tempDir();
  const config = loadConfig({
    COMMS_API_DATA_DIR: dataDir,
    COMMS_API_HOST: '127.0.0.1',
    COMMS_API_PORT: '0',
    COMMS_API_INSECURE_HTTP: '1',
    COMMS_API_LOG_LEVEL: 'silent',
    ...env,
  });
  const server = await startServer(config);
  return {
    url: server.url,
    ...(server.metricsUrl ? { metricsUrl: server.metricsUrl } : {}),
    api: `${server.url}/api/v1`,
    dataDir,
    config,
    async stop() {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

export interface ServerProcess {
  url: string;
  api: string;
  proc: ChildProcess;
  output(): string;
  /** Sends `signal` and resolves with the exit code once the process is gone. */
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/** `comms-api serve` as a child process (the built CLI), on the given data folder. */
export async function spawnServer(dataDir: string, env: Record<string, string> = {}): Promise<ServerProcess> {
  const proc = spawn(process.execPath, [join(ROOT, 'bin/comms-api.js'), 'serve'], {
    env: {
      ...process.env,
      COMMS_API_DATA_DIR: dataDir,
      COMMS_API_HOST: '127.0.0.1',
      COMMS_API_PORT: '0',
      COMMS_API_INSECURE_HTTP: '1',
      COMMS_API_LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stderr!.on('data', (d) => (out += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 30_000);
    proc.stdout!.on('data', (d) => {
      out += d;
      const m = /serving on ([^\s"]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${out}`));
    });
  });
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return {
    url,
    api: `${url}/api/v1`,
    proc,
    output: () => out,
    async kill(signal = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
      return exited;
    },
  };
}

/** Runs the built CLI to completion. */
export function runCli(
  args: string[],
  env: Record<string, string>,
  stdin?: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [join(ROOT, 'bin/comms-api.js'), ...args], {
      env: { ...process.env, COMMS_API_LOG_LEVEL: 'warn', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => (stdout += d));
    proc.stderr.on('data', (d) => (stderr += d));
    proc.stdin.end(stdin ?? '');
    proc.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Creates a user directly in the data folder's journal (as `comms-api users add` does). */
export async function addUser(dataDir: string, name: string, role: 'operator' | 'auditor', password = 'correct horse battery'): Promise<void> {
  const { openJournal } = await import('../../src/journal/journal.js');
  const { createUser, CreateUser } = await import('../../src/commands/createUser.js');
  const journal = openJournal({ dataDir, quotaBytes: 1 << 30 });
  try {
    await createUser(journal)(CreateUser.parse({ name, role, password }), 'test');
  } finally {
    await journal.close();
  }
}
