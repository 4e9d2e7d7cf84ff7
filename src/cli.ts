import { createRequire } from 'node:module';
import { CommanderError } from 'commander';
import { createProgram, exitCode } from './cli/program.js';

/**
 * The `comms-api` command: commander parses, each subcommand's action loads what it needs.
 * Exit codes: 0 ok, 1 failure, 2 usage (a missing or bad flag, an unknown command).
 */
const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

async function errorText(err: unknown): Promise<{ text: string; code: number }> {
  const { ApiError, UsageError, describeError } = await import('./cli/errors.js');
  if (err instanceof UsageError) return { text: err.message, code: 2 };
  if (err instanceof ApiError) return { text: err.message, code: 1 };
  const name = (err as { name?: string })?.name;
  // bad values of the data-folder commands' flags (zod) and of the config are the operator's input
  const usage = name === 'ZodError' || name === 'ConfigError' || (err as { code?: string })?.code?.startsWith('ERR_PARSE_ARGS');
  return { text: describeError(err), code: usage ? 2 : 1 };
}

/**
 * A reader that stops early (`comms-api agents list | head`) closes stdout: for a command that is
 * the end of its output, not an error. `serve` replaces this listener (a server keeps serving).
 */
function endQuietlyOnEpipe(err: NodeJS.ErrnoException): void {
  if (err.code !== 'EPIPE') throw err;
  process.exit(0);
}

export async function main(argv: string[]): Promise<number> {
  process.stdout.on('error', endQuietlyOnEpipe);
  const program = createProgram(version);
  if (argv.length === 0) {
    program.outputHelp({ error: true });
    return 2;
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' ? 0 : 2;
    }
    const { text, code } = await errorText(err);
    process.stderr.write(`comms-api: ${text}\n`);
    return code;
  }
}

main(process.argv.slice(2)).then((code) => {
  if (code >= 0) process.exitCode = code;
});
