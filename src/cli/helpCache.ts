import { statSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CommanderError, type Command } from 'commander';
import { createProgram } from './program.js';
import { runProgram } from './run.js';
import { packageVersion } from '../version.js';

/**
 * The help cache: what commander prints for every help and version request, recorded at build
 * time from the real command tree, so that `bin/comms-api.js` answers `--help` without loading
 * commander or any module of ours (Node's start-up is most of the 150 ms budget).
 *
 * A help is kept twice: as printed at the default width (80 columns: any output that is not a
 * terminal, and an 80-column terminal), and as a template in which every item commander wraps
 * (an option, a command, an argument and its description; a command's description) is a
 * placeholder, re-wrapped at another terminal width by commander's own `Help`.
 */
export const HELP_WIDTH = 80;
export const HELP_CACHE_FILE = fileURLToPath(new URL('./help.json', import.meta.url));
/** The templates, read only for a terminal of another width (the bin reads as little as it can). */
export const HELP_TEMPLATES_FILE = fileURLToPath(new URL('./help-templates.json', import.meta.url));
/** The cache is used only beside the program.js it was recorded from (an edit without a rebuild of the cache falls back to commander). */
const PROGRAM_FILE = fileURLToPath(new URL('./program.js', import.meta.url));

/** A wrapped item: [term, termWidth, description] (commander's formatItem), or [text, width - helpWidth] (boxWrap). */
export type Part = [string, number, string] | [string, number];
export interface HelpCache {
  version: string;
  /** the size of dist/cli/program.js the cache was made from */
  programSize: number;
  width: number;
  /** JSON.stringify(argv) → [index in texts and templates, fd written (1 stdout, 2 stderr), exit code] */
  entries: Record<string, [number, 1 | 2, number]>;
  /** as printed at `width` columns */
  texts: string[];
}
export type HelpTemplate = { template: string; parts: Part[] };

interface Capture {
  out: string;
  err: string;
  code: number;
  kind: string;
}

function eachCommand(cmd: Command, fn: (c: Command) => void): void {
  fn(cmd);
  for (const c of cmd.commands) eachCommand(c, fn);
}

/**
 * What `comms-api ...argv` prints, run in this process on a fresh command tree: for a help, at
 * `width` columns (or with placeholders for the wrapped items when `parts` is given).
 */
export async function capture(argv: string[], width: number, parts?: Part[]): Promise<Capture> {
  const program = createProgram(packageVersion());
  let out = '';
  let err = '';
  eachCommand(program, (c) => {
    // a request that would run a command is not a help: stopped before its action
    c.hook('preAction', () => {
      throw new CommanderError(2, 'comms-api.notHelp', 'not a help request');
    });
    c.configureOutput({
      writeOut: (s) => void (out += s),
      writeErr: (s) => void (err += s),
      getOutHelpWidth: () => width,
      getErrHelpWidth: () => width,
      getOutHasColors: () => false,
      getErrHasColors: () => false,
    });
    if (parts) {
      c.configureHelp({
        ...c.configureHelp(),
        formatItem: (term: string, termWidth: number, description: string) => `\0${parts.push([term, termWidth, description]) - 1}\0`,
        boxWrap: (text: string, w: number) => `\0${parts.push([text, w - width]) - 1}\0`,
      });
    }
  });
  const { code, kind } = await runProgram(program, argv);
  return { out, err, code, kind };
}

/** Every argv that asks for a help or the version: `[]`, `-V`, `--version`, and for every command path P: `P --help`, `P -h`, `P help [sub]`, a command of commands alone. */
export function helpRequests(program: Command = createProgram(packageVersion())): string[][] {
  const requests: string[][] = [[], ['-V'], ['--version'], ['help']];
  const walk = (cmd: Command, path: string[]): void => {
    requests.push([...path, '--help'], [...path, '-h']);
    if (cmd.commands.length > 0) {
      if (path.length > 0) requests.push(path, [...path, 'help']);
      for (const c of cmd.commands) {
        for (const name of [c.name(), ...c.aliases()]) {
          if (name === 'help') continue;
          requests.push([...path, 'help', name]);
          walk(c, [...path, name]);
        }
      }
    }
  };
  walk(program, []);
  return requests;
}

/** The cache of the command tree in this process (without `programSize`: that is the build's). */
export async function buildHelpCache(): Promise<{ cache: Omit<HelpCache, 'programSize'>; templates: HelpTemplate[] }> {
  const cache: Omit<HelpCache, 'programSize'> = { version: packageVersion(), width: HELP_WIDTH, entries: {}, texts: [] };
  const templates: HelpTemplate[] = [];
  const byText = new Map<string, number>();
  for (const argv of helpRequests()) {
    const plain = await capture(argv, HELP_WIDTH);
    if (plain.kind !== 'help' && plain.kind !== 'version') continue;
    if ((plain.out === '') === (plain.err === '')) continue; // one stream, or not cached
    const text = plain.out || plain.err;
    let index = byText.get(text);
    if (index === undefined) {
      const parts: Part[] = [];
      const templated = await capture(argv, HELP_WIDTH, parts);
      index = cache.texts.push(text) - 1;
      templates.push({ template: templated.out || templated.err, parts });
      byText.set(text, index);
    }
    cache.entries[JSON.stringify(argv)] = [index, plain.out ? 1 : 2, plain.code];
  }
  return { cache, templates };
}

export async function writeHelpCache(): Promise<void> {
  const { cache, templates } = await buildHelpCache();
  writeFileSync(HELP_TEMPLATES_FILE, `${JSON.stringify(templates)}\n`);
  writeFileSync(HELP_CACHE_FILE, `${JSON.stringify({ ...cache, programSize: statSync(PROGRAM_FILE).size } satisfies HelpCache)}\n`);
}
