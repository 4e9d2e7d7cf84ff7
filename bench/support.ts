import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const ROOT = new URL('..', import.meta.url).pathname;

/** Spawns a process and resolves once a line of its stdout matches `ready`. */
export function spawnReady(cmd: string, args: string[], ready: RegExp, env: Record<string, string> = {}) {
  const proc = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stderr!.on('data', (d) => (out += d));
  // BENCH_OUTPUT=FILE keeps what the spawned processes print (e.g. with BENCH_SERVER_NODE_ARGS=--trace-gc)
  const keep = process.env.BENCH_OUTPUT;
  if (keep) for (const s of [proc.stdout!, proc.stderr!]) s.on('data', (d) => appendFileSync(keep, d));
  const started = new Promise<RegExpExecArray>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not ready after 60 s:\n${out}`)), 60_000);
    proc.stdout!.on('data', (d) => {
      out += d;
      const m = ready.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    });
    proc.once('exit', (code) => reject(new Error(`exited with ${code}:\n${out}`)));
  });
  return { proc, started, stop: () => stopProcess(proc) };
}

export function stopProcess(proc: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    proc.once('exit', () => resolve());
    proc.kill(signal);
    setTimeout(() => proc.kill('SIGKILL'), 15_000).unref();
  });
}

/** CPU seconds (user + system) a process has used so far, from /proc. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

export interface Row {
  bench: string;
  case: string;
  metric: string;
  value: number;
  baseline?: number;
  ratio?: number;
  target?: string;
  met?: boolean;
}

/** Prints a table and merges the rows into bench/results/latest.json (one key per benchmark). */
export function report(bench: string, rows: Row[]): void {
  const fmt = (n: number | undefined) => (n === undefined ? '' : n >= 100 ? Math.round(n).toLocaleString('en') : n.toFixed(2));
  const table = rows.map((r) => ({
    case: r.case,
    metric: r.metric,
    value: fmt(r.value),
    baseline: fmt(r.baseline),
    ratio: r.ratio === undefined ? '' : `${(r.ratio * 100).toFixed(0)}%`,
    target: r.target ?? '',
    met: r.met === undefined ? '' : r.met ? 'yes' : 'NO',
  }));
  console.log(`\n${bench}`);
  console.table(table);
  const dir = join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'latest.json');
  let all: Record<string, unknown> = {};
  try {
    all = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    /* first benchmark of the run */
  }
  all[bench] = { at: new Date().toISOString(), rows };
  writeFileSync(file, JSON.stringify(all, null, 2));
}
