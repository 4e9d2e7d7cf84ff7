import { CommanderError, type Command } from 'commander';
import { exitCode } from './program.js';

/** What a run of the command tree amounted to (the help cache keeps only `help` and `version`). */
export type Outcome = { code: number; kind: 'help' | 'version' | 'usage' | 'ran' | 'failed' };

async function errorText(err: unknown): Promise<{ text: string; code: number }> {
  const { ApiError, UsageError, describeError } = await import('./errors.js');
  if (err instanceof UsageError) return { text: err.message, code: 2 };
  if (err instanceof ApiError) return { text: err.message, code: 1 };
  const name = (err as { name?: string })?.name;
  // bad values of the data-folder commands' flags (zod) and of the config are the operator's input
  const usage = name === 'ZodError' || name === 'ConfigError' || (err as { code?: string })?.code?.startsWith('ERR_PARSE_ARGS');
  return { text: describeError(err), code: usage ? 2 : 1 };
}

/**
 * Runs the command tree on argv (without `node` and the script). Exit codes: 0 ok, 1 failure,
 * 2 usage (a missing or bad flag, an unknown command; no arguments at all prints the help to stderr).
 */
export async function runProgram(program: Command, argv: string[]): Promise<Outcome> {
  if (argv.length === 0) {
    program.outputHelp({ error: true });
    return { code: 2, kind: 'help' };
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return { code: exitCode, kind: 'ran' };
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed') return { code: 0, kind: 'help' };
      if (err.code === 'commander.version') return { code: 0, kind: 'version' };
      // `comms-api help [command]` prints a help to stdout (exit 0); `comms-api agents` (a command
      // of commands, alone) prints its help to stderr, a usage error
      if (err.code === 'commander.help') return { code: err.exitCode === 0 ? 0 : 2, kind: 'help' };
      return { code: 2, kind: 'usage' };
    }
    const { text, code } = await errorText(err);
    process.stderr.write(`comms-api: ${text}\n`);
    return { code, kind: 'failed' };
  }
}
