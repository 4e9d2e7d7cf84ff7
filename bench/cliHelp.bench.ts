// `comms-api --help` wall time (target < 150 ms), beside `node -e ''` measured in the same run
// (the floor: Node's own start-up) and loading the whole server (what the CLI used to import).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { report, ROOT } from './support.js';

const RUNS = Number(process.argv[2] ?? 15);
const bin = join(ROOT, 'bin/comms-api.js');

function median(cmd: string[]): number {
  const times: number[] = [];
  for (let i = 0; i < RUNS + 1; i++) {
    const started = process.hrtime.bigint();
    const r = spawnSync(process.execPath, cmd, { stdio: 'ignore' });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    if (r.status !== 0) throw new Error(`${cmd.join(' ')} exited ${r.status}`);
    if (i > 0) times.push(ms); // the first run warms the file cache
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

// interleaved in one loop would be fairer on a noisy machine; medians of 15 are enough to see the gap
const node = median(['-e', '']);
const help = median([bin, '--help']);
const subHelp = median([bin, 'commands', 'issue', '--help']);
const server = median(['-e', `import(${JSON.stringify(join(ROOT, 'dist/main.js'))})`]);
report('cliHelp', [
  { bench: 'cliHelp', case: 'comms-api --help', metric: 'wall ms (median)', value: help, baseline: node, ratio: help / node, target: '< 150 ms', met: help < 150 },
  { bench: 'cliHelp', case: 'comms-api commands issue --help', metric: 'wall ms (median)', value: subHelp, baseline: node, ratio: subHelp / node, target: '< 150 ms', met: subHelp < 150 },
  { bench: 'cliHelp', case: 'importing the server (the old CLI did)', metric: 'wall ms (median)', value: server, baseline: node, ratio: server / node },
]);
