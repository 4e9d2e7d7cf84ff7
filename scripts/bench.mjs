#!/usr/bin/env node
// Runs the benchmarks: builds the server (the benchmarks start the built `comms-api serve`), then
// every bench/*.bench.ts (or those whose name matches argv[2]) with `node --import tsx`, one after
// the other; extra arguments after the pattern are passed to each benchmark.
//   npm run bench                 every benchmark
//   npm run bench -- fanout       bench/fanout.bench.ts only
//   npm run bench -- drain --events 200000
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const [pattern, ...rest] = process.argv.slice(2);
const filter = pattern ? new RegExp(pattern) : null;

process.stdout.write('== build\n');
const build = spawnSync(process.execPath, [join(root, 'scripts/build.mjs')], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);

const files = readdirSync(join(root, 'bench'))
  .filter((f) => f.endsWith('.bench.ts') && (!filter || filter.test(f)))
  .sort();
if (files.length === 0) {
  process.stderr.write(`no benchmark matches ${pattern}\n`);
  process.exit(1);
}
const failed = [];
for (const f of files) {
  process.stdout.write(`\n== bench/${f}\n`);
  const started = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(root, 'bench', f), ...rest], { cwd: root, stdio: 'inherit' });
  process.stdout.write(`== bench/${f}: ${r.status === 0 ? 'done' : `FAILED (exit ${r.status ?? r.signal})`} in ${Math.round((Date.now() - started) / 1000)} s\n`);
  if (r.status !== 0) failed.push(f);
}
process.stdout.write(`\nresults: ${join(root, 'bench/results/latest.json')} (one key per benchmark); BENCHMARKS.md explains them\n`);
if (failed.length > 0) {
  process.stdout.write(`failed: ${failed.join(', ')}\n`);
  process.exit(1);
}
