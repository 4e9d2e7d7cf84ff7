import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { buildHelpCache, capture, type HelpCache, type HelpTemplate } from '../../src/cli/helpCache.js';
import { ROOT, runCli } from '../support/server.js';

/**
 * bin/comms-api.js prints helps and the version from dist/cli/help.json without loading commander:
 * that file must be what commander prints for the command tree of src/cli/program.ts, at every
 * terminal width, and the bin must print it as the compiled CLI (dist/cli.js) would.
 */
const bin = createRequire(import.meta.url)(join(ROOT, 'bin/comms-api.js')) as {
  cached(argv: string[]): { text: string; fd: 1 | 2; code: number } | undefined;
  render(help: HelpTemplate, width: number): string;
};
const file = (): HelpCache => JSON.parse(readFileSync(join(ROOT, 'dist/cli/help.json'), 'utf8'));
const templates = (): HelpTemplate[] => JSON.parse(readFileSync(join(ROOT, 'dist/cli/help-templates.json'), 'utf8'));
const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };

const cache = suite('the help cache of the CLI');

cache('the built cache is the command tree of the sources (a rebuild after every change of program.ts)', async () => {
  const { programSize, ...cache } = file();
  assert.ok(programSize > 0);
  assert.equal({ cache, templates: templates() }, await buildHelpCache());
});

cache('it answers --help, -h, help [command] and --version of every command, and nothing else', () => {
  const entries = file().entries;
  for (const argv of [[], ['--help'], ['-h'], ['help'], ['-V'], ['--version'], ['agents', '--help'], ['agents', 'list', '-h'], ['catalog', 'get', '--help'], ['help', 'agents'], ['agents', 'help', 'list'], ['agents']]) {
    assert.ok(entries[JSON.stringify(argv)], JSON.stringify(argv));
  }
  for (const argv of [['agents', 'list'], ['serve'], ['completion'], ['replay'], ['help', 'nope'], ['nope', '--help'], ['agents', 'list', '-o', 'json', '--help']]) {
    assert.is(bin.cached(argv), undefined, JSON.stringify(argv));
  }
});

cache('every cached help, re-wrapped at other terminal widths, is what commander prints at that width', async () => {
  const { entries, texts } = file();
  const helps = templates();
  assert.is(helps.length, texts.length);
  const checked = new Set<number>();
  for (const [key, [index, fd]] of Object.entries(entries)) {
    if (checked.has(index)) continue;
    checked.add(index);
    const argv = JSON.parse(key) as string[];
    for (const width of [40, 57, 80, 100, 132, 200]) {
      const live = await capture(argv, width);
      assert.fixture(bin.render(helps[index]!, width), fd === 1 ? live.out : live.err, `${key} at ${width} columns`);
    }
  }
  assert.is(checked.size, texts.length);
});

cache('the bin prints the help and version as the compiled CLI does, with its exit codes', async () => {
  for (const argv of [['--help'], ['agents', '--help'], ['commands', 'issue', '-h'], ['help', 'users'], [], ['agents']]) {
    const [fast, full] = await Promise.all([runCli(argv, {}), runFull(argv)]);
    assert.equal(fast, full, JSON.stringify(argv));
    assert.ok(fast.stdout.length + fast.stderr.length > 100, JSON.stringify(argv));
  }
  for (const flag of ['--version', '-V']) assert.equal(await runCli([flag], {}), { code: 0, stdout: `${version}\n`, stderr: '' });
  assert.is((await runCli([], {})).code, 2);
});

/** The compiled CLI itself (what the bin runs for anything but a help). */
async function runFull(argv: string[]) {
  const { spawn } = await import('node:child_process');
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const proc = spawn(process.execPath, [join(ROOT, 'dist/cli.js'), ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.on('data', (d) => (stdout += d));
    proc.stderr.on('data', (d) => (stderr += d));
    proc.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

cache.run();
