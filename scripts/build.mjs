#!/usr/bin/env node
// The build (`npm run build`, run by `npm install` through `prepare`, and by scripts/test.mjs and
// scripts/bench.mjs): TypeScript into dist/, then the CLI's help cache (dist/cli/help.json) recorded
// from the built command tree, which bin/comms-api.js prints for `--help` without loading it.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const tsc = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
if (tsc.status !== 0) process.exit(tsc.status ?? 1);
const { writeHelpCache } = await import(join(root, 'dist/cli/helpCache.js'));
await writeHelpCache();
