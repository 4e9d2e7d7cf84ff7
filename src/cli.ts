import { createProgram } from './cli/program.js';
import { runProgram } from './cli/run.js';
import { packageVersion } from './version.js';

/**
 * The `comms-api` command: commander parses, each subcommand's action loads what it needs.
 * `bin/comms-api.js` answers `--help`, `--version` and the per-command helps from the help cache
 * (`dist/cli/help.json`, see cli/helpCache.ts) without loading this file.
 */

/**
 * A reader that stops early (`comms-api agents list | head`) closes stdout: for a command that is
 * the end of its output, not an error. `serve` replaces this listener (a server keeps serving).
 */
function endQuietlyOnEpipe(err: NodeJS.ErrnoException): void {
  if (err.code !== 'EPIPE') throw err;
  process.exit(0);
}

process.stdout.on('error', endQuietlyOnEpipe);
runProgram(createProgram(packageVersion()), process.argv.slice(2)).then(({ code }) => {
  if (code >= 0) process.exitCode = code;
});
