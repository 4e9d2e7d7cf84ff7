#!/usr/bin/env node
// Runs every test of the project and ends with one line: "N passed, N failed".
// Steps: type-check, build (the e2e suites start the built server), then every
// test/**/*.test.ts file in its own node process (uvu prints a summary per process;
// we add them up). One OpenSearch node is started for the whole run when a suite
// needs it (files under test/ whose name contains ".os." or that live in test/e2e/).
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const filter = process.argv[2] ? new RegExp(process.argv[2]) : null;
let passed = 0;
let failed = 0;

function step(name, cmd, args) {
  process.stdout.write(`\n== ${name}\n`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status === 0) passed += 1;
  else failed += 1;
  return r.status === 0;
}

function listTests(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (name === 'support' || name === 'node_modules') continue;
      out.push(...listTests(p));
    } else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out.sort();
}

function runFile(file, env) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => { out += d; process.stdout.write(d); });
    child.stderr.on('data', (d) => { out += d; process.stderr.write(d); });
    child.on('close', (code) => {
      const total = Number(/Total:\s+(\d+)/.exec(out)?.[1] ?? 0);
      const ok = Number(/Passed:\s+(\d+)/.exec(out)?.[1] ?? 0);
      const skipped = Number(/Skipped:\s+(\d+)/.exec(out)?.[1] ?? 0);
      let bad = total - ok - skipped;
      // A file that crashed before uvu could report counts as one failure.
      if (code !== 0 && bad === 0) bad = 1;
      resolve({ ok, bad: bad + skipped });
    });
  });
}

const files = listTests(join(root, 'test')).filter((f) => !filter || filter.test(f));
const onlyTests = Boolean(filter);
if (!onlyTests) {
  step('type-check', process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json', '--noEmit']);
}
step('build', process.execPath, [join(root, 'scripts/build.mjs')]); // tsc, then the CLI's help cache

const needsOpenSearch = files.some((f) => /\.os\.test\.ts$/.test(f) || f.includes('/e2e/'));
let os = null;
const env = {};
if (needsOpenSearch && !process.env.OPENSEARCH_URL) {
  process.stdout.write('\n== starting OpenSearch for this run\n');
  const { startOpenSearch } = await import('../test/support/opensearch/node.ts').catch(async () => {
    // plain node cannot import .ts: go through tsx
    const { tsImport } = await import('tsx/esm/api');
    return tsImport('../test/support/opensearch/node.ts', import.meta.url);
  });
  try {
    // generous: a changed launcher is rebuilt first (prepare.sh, minutes on a loaded machine)
    os = await startOpenSearch({ startTimeoutMs: 900_000 });
    env.OPENSEARCH_URL = os.url;
    process.stdout.write(`OpenSearch ready at ${os.url}\n`);
  } catch (err) {
    process.stdout.write(`OpenSearch did not start: ${err?.message ?? err}\n`);
    failed += 1;
  }
}

for (const file of files) {
  process.stdout.write(`\n== ${relative(root, file)}\n`);
  const r = await runFile(file, env);
  passed += r.ok;
  failed += r.bad;
}
if (os) await os.stop();
process.stdout.write(`\n${passed} passed, ${failed} failed\n`);
process.exit(failed === 0 ? 0 : 1);
