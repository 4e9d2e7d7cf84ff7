// Test helper: starts the real single-node OpenSearch of this folder (run.sh → Launcher.java) and stops it.
// Node built-ins only (child_process, fs, net, global fetch).
//
//   const os = await startOpenSearch();          // free port chosen by the node itself
//   ... use os.url (http://127.0.0.1:PORT) ...
//   await os.stop();                              // SIGTERM, SIGKILL after 20 s
//
// The node also stops by itself when this process goes away (its stdin pipe closes), so a crashed or
// forgotten test run does not leave a JVM behind.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface StartOpenSearchOptions {
  /** HTTP port on 127.0.0.1. Default 0: the node binds a free port itself (no race) and reports it. */
  port?: number;
  /** Load the painless script engine (default true). Without it the node starts ~1-3 s faster and uses ~70 MB less. */
  painless?: boolean;
  /** Keep home/data/logs in this folder (kept after stop). Default: a temp folder that the node deletes on exit. */
  dataDir?: string;
  /** JVM options; default "-Xms512m -Xmx1g". */
  javaOpts?: string;
  /** OpenSearch root log level on stderr (default "warn"). */
  logLevel?: string;
  /** Give up (and kill the process) when not ready after this long. Default 180 s. */
  startTimeoutMs?: number;
  /**
   * A secured node: a folder written by secure-config.sh (certificates, users). The node then serves HTTPS
   * with its security plugin on, and its URL is https://.
   */
  securityDir?: string;
  /** Receives every chunk the process writes (stdout and stderr), e.g. `(s) => process.stderr.write(s)`. */
  onOutput?: (chunk: string) => void;
}

export interface OpenSearchNode {
  /** e.g. "http://127.0.0.1:45123" (no trailing slash) */
  url: string;
  port: number;
  /** pid of the JVM (run.sh execs java, so this is the java process) */
  pid: number;
  /** SIGTERM, wait for exit; SIGKILL after 20 s. Idempotent. */
  stop(): Promise<void>;
  /** The last ~64 KiB the process printed (stdout + stderr), for diagnostics. */
  output(): string;
  /** Resolves when the process has exited, for whatever reason. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const DEFAULT_START_TIMEOUT_MS = 180_000;
const STOP_GRACE_MS = 20_000;
const OUTPUT_LIMIT = 64 * 1024;
const READY_RE = /^OPENSEARCH READY (https?:\/\/127\.0\.0\.1:(\d+))\s*$/m;

/** Absolute path of run.sh (next to this file; also found when this file is run from a compiled copy). */
export function runScriptPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'run.sh')];
  for (let dir = here, i = 0; i < 8; i++, dir = dirname(dir)) {
    candidates.push(join(dir, 'test', 'support', 'opensearch', 'run.sh'));
  }
  candidates.push(resolve('test/support/opensearch/run.sh'));
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`run.sh not found (looked in ${candidates.join(', ')})`);
  return found;
}

/** A free TCP port on 127.0.0.1 right now (it may be taken again before you bind it: prefer port 0). */
export async function freePort(): Promise<number> {
  return new Promise<number>((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port > 0 ? resolvePort(port) : reject(new Error('could not get a free port'))));
    });
  });
}

/** Polls `GET /_cluster/health?wait_for_status=<status>` until it answers 200 with a status that is not red. */
export async function waitForClusterHealth(url: string, timeoutMs = 60_000, status: 'yellow' | 'green' = 'yellow'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const remaining = Math.max(1_000, deadline - Date.now());
    try {
      const res = await fetch(`${url}/_cluster/health?wait_for_status=${status}&timeout=${Math.min(30_000, remaining)}ms`, {
        signal: AbortSignal.timeout(Math.min(35_000, remaining + 1_000)),
      });
      const body = await res.text();
      if (res.ok) {
        const health = JSON.parse(body) as { status?: string; timed_out?: boolean };
        if (!health.timed_out && (health.status === 'green' || (status === 'yellow' && health.status === 'yellow'))) return;
      }
      last = `HTTP ${res.status}: ${body.slice(0, 500)}`;
    } catch (err) {
      last = String(err instanceof Error ? err.message : err);
    }
    await sleep(250);
  }
  throw new Error(`cluster health at ${url} did not reach ${status} within ${timeoutMs} ms (last: ${last})`);
}

/**
 * Stops a process started by startOpenSearch (or any child of run.sh): SIGTERM to its process group, wait for exit,
 * SIGKILL after graceMs. Resolves once the process has exited.
 */
export async function stopOpenSearchProcess(child: ChildProcess, graceMs = STOP_GRACE_MS): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  signal(child, 'SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const killed = new Promise<void>((done) => {
    timer = setTimeout(() => {
      signal(child, 'SIGKILL');
      done();
    }, graceMs);
  });
  await Promise.race([exited, killed]);
  if (timer) clearTimeout(timer);
  await exited;
}

/** Starts a single-node OpenSearch on 127.0.0.1; resolves when it answers and cluster health is at least yellow. */
export async function startOpenSearch(opts: StartOpenSearchOptions = {}): Promise<OpenSearchNode> {
  const port = opts.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`bad port: ${port}`);
  const startTimeoutMs = opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  const started = Date.now();

  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.OPENSEARCH_DATA;
  delete env.OPENSEARCH_PORT;
  env.OPENSEARCH_EXIT_ON_STDIN_EOF = '1';
  if (opts.dataDir !== undefined) env.OPENSEARCH_DATA = opts.dataDir;
  if (opts.javaOpts !== undefined) env.OPENSEARCH_JAVA_OPTS = opts.javaOpts;
  if (opts.logLevel !== undefined) env.OPENSEARCH_LOG_LEVEL = opts.logLevel;
  if (opts.painless !== undefined) env.OPENSEARCH_PAINLESS = opts.painless ? '1' : '0';
  delete env.OPENSEARCH_SECURITY_DIR;
  if (opts.securityDir !== undefined) env.OPENSEARCH_SECURITY_DIR = opts.securityDir;

  // detached: own process group, so stop() also reaches a Maven build that run.sh may be running first,
  // and a Ctrl-C in the terminal does not kill the node behind the test runner's back.
  const child = spawn('bash', [runScriptPath(), String(port)], {
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  if (child.pid === undefined) {
    // spawn failures are reported through 'error'
    await new Promise((r) => setImmediate(r));
  }

  let output = '';
  let stdoutText = '';
  const record = (chunk: string) => {
    output += chunk;
    if (output.length > OUTPUT_LIMIT) output = output.slice(output.length - OUTPUT_LIMIT);
    opts.onOutput?.(chunk);
  };
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (s: string) => record(s));
  child.stdin!.on('error', () => {}); // EPIPE once the process is gone

  let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => {
    child.once('exit', (code, sig) => {
      exitInfo = { code, signal: sig };
      done(exitInfo);
    });
  });
  const spawnError = new Promise<never>((_, reject) => {
    child.once('error', (err) => reject(new Error(`could not start run.sh: ${err.message}`)));
  });
  spawnError.catch(() => {});

  const tail = () => {
    const lines = output.trimEnd().split('\n');
    return lines.slice(-40).join('\n');
  };

  const ready = new Promise<{ url: string; port: number }>((resolveReady) => {
    child.stdout!.on('data', (s: string) => {
      record(s);
      if (stdoutText.length < OUTPUT_LIMIT) stdoutText += s;
      const m = READY_RE.exec(stdoutText);
      if (m && m[1] && m[2]) resolveReady({ url: m[1], port: Number(m[2]) });
    });
  });

  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${startTimeoutMs} ms`)), startTimeoutMs);
  });
  const diedEarly = exited.then((e): never => {
    throw new Error(`exited (code ${e.code}, signal ${e.signal}) before it was ready`);
  });
  diedEarly.catch(() => {});
  timedOut.catch(() => {});

  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= stopOpenSearchProcess(child));

  try {
    const r = await Promise.race([ready, diedEarly, timedOut, spawnError]);
    const left = startTimeoutMs - (Date.now() - started);
    // a secured node checked its health in-process and over TLS (an anonymous 401) before it printed the line
    if (!opts.securityDir) await Promise.race([waitForClusterHealth(r.url, Math.max(1_000, left)), diedEarly, timedOut]);
    if (child.pid === undefined) throw new Error('no pid');
    // From here on the node must not keep this process alive by itself: a forgotten stop() then ends with
    // this process, whose exit closes the node's stdin and makes it shut down.
    child.unref();
    for (const s of [child.stdin, child.stdout, child.stderr]) (s as unknown as Socket | null)?.unref?.();
    return { url: r.url, port: r.port, pid: child.pid, stop, output: () => output, exited };
  } catch (err) {
    await stop().catch(() => {});
    const why = err instanceof Error ? err.message : String(err);
    const exit = exitInfo ? ` [exit code ${exitInfo.code}, signal ${exitInfo.signal}]` : '';
    throw new Error(`OpenSearch did not start: ${why}${exit}\n--- last output of run.sh ---\n${tail()}`);
  } finally {
    if (timer) clearTimeout(timer);
  }
}

function signal(child: ChildProcess, sig: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, sig); // the whole group: bash/mvn while building, java after exec
  } catch {
    try {
      child.kill(sig);
    } catch {
      // already gone
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
