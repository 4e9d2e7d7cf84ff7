import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

/** Everything the server creates from now on is private to its user, whatever the inherited umask. */
export const PRIVATE_UMASK = 0o077;

/**
 * Makes the data folder private: the process umask becomes 0077 (database, WAL, SHM, keys, TLS
 * pair, packages, sockets are created 0600/0700), a new folder is created 0700, and files or
 * folders inside it readable by others (left by an older version or copied in) are tightened.
 * An existing folder with looser modes is left as the operator set it, with a warning.
 * Returns the warnings to log.
 */
export function secureDataDir(dir: string): string[] {
  process.umask(PRIVATE_UMASK);
  const warnings: string[] = [];
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
    return warnings;
  }
  const mode = lstatSync(dir).mode & 0o777;
  if (mode & 0o077) {
    warnings.push(`the data folder ${dir} has mode ${mode.toString(8).padStart(4, '0')}: others can read it; run chmod 700 on it`);
  }
  const tightened = tighten(dir);
  if (tightened > 0) warnings.push(`${tightened} files or folders in ${dir} were readable by others; they are now 0600/0700`);
  return warnings;
}

/** chmod go-rwx on everything below `dir` (not following links); returns how many were changed. */
function tighten(dir: string): number {
  let changed = 0;
  const stack = [dir];
  while (stack.length > 0) {
    const current = stack.pop()!;
    for (const name of readdirSync(current)) {
      const path = join(current, name);
      const st = lstatSync(path);
      if (st.isSymbolicLink()) continue;
      if (st.isDirectory()) stack.push(path);
      if (st.mode & 0o077) {
        chmodSync(path, st.mode & 0o700);
        changed += 1;
      }
    }
  }
  return changed;
}
