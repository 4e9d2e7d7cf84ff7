// `comms-api --help` wall time (target < 150 ms), beside `node -e 0` (the floor: Node's own
// start-up) measured in the same run, interleaved (node, help, node, help, ...) so that a change of
// the machine's load hits both alike: on a shared machine read the ratio and the difference, not
// the absolute times. Also: per-command help, --version, the full CLI (dist/cli.js: commander and
// the command tree, what the bin runs for anything but a help) and the whole server.
//   npm run bench -- cliHelp [ROUNDS]
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { report, ROOT } from './support.js';

const ROUNDS = Number(process.argv[2] ?? 21);
const bin = join(ROOT, 'bin/comms-api.js');

const cases: Array<{ name: string; args: string[]; target?: boolean }> = [
  { name: 'node -e 0', args: ['-e', '0'] },
  { name: 'comms-api --help', args: [bin, '--help'], target: true },
  { name: 'comms-api agents list --help', args: [bin, 'agents', 'list', '--help'], target: true },
  { name: 'comms-api --version', args: [bin, '--version'], target: true },
  { name: 'comms-api (no arguments: help on stderr)', args: [bin] },
  { name: 'node dist/cli.js --help (commander, no cache)', args: [join(ROOT, 'dist/cli.js'), '--help'] },
  { name: 'importing the server (the first CLI did)', args: ['-e', `import(${JSON.stringify(join(ROOT, 'dist/main.js'))})`] },
];

const times = cases.map(() => [] as number[]);
for (let round = 0; round <= ROUNDS; round++) {
  cases.forEach((c, i) => {
    const started = process.hrtime.bigint();
    // stdout and stderr piped, as a caller capturing the output has them
    const r = spawnSync(process.execPath, c.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (r.status !== 0 && c.args.length > 1) throw new Error(`${c.name} exited ${r.status}: ${r.stderr}`);
    if (round > 0) times[i]!.push(ms); // round 0 warms the file cache
  });
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
// the median of the per-round ratios: robust to the load drifting during the run
const ratio = (i: number) => median(times[i]!.map((t, r) => t / times[0]![r]!));
const node = median(times[0]!);
report(
  'cliHelp',
  cases.map((c, i) => ({
    bench: 'cliHelp',
    case: c.name,
    metric: `wall ms (median of ${ROUNDS}; +${(median(times[i]!) - node).toFixed(1)} ms on node -e 0)`,
    value: median(times[i]!),
    baseline: node,
    ratio: ratio(i),
    ...(c.target ? { target: '< 150 ms', met: median(times[i]!) < 150 } : {}),
  })),
);
