/** Wrong usage (a missing or bad flag): exit code 2. */
export class UsageError extends Error {}

/** An answer of the server that is not a success: exit code 1, the problem's detail printed. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly problem: { title?: string; detail?: string; errors?: Array<{ field?: string; line?: number; message: string }> } | undefined,
    readonly headers: Record<string, string | string[] | undefined> = {},
  ) {
    const fields = (problem?.errors ?? [])
      .map((e) => `${e.field ?? (e.line !== undefined ? `line ${e.line}` : '')}: ${e.message}`)
      .filter((f) => !problem?.detail?.includes(f))
      .map((f) => `  ${f}`);
    super([`${status} ${problem?.title ?? 'error'}${problem?.detail ? `: ${problem.detail}` : ''}`, ...fields.slice(0, 10)].join('\n'));
  }
}

/** A zod-like issue path turned into the flag an operator typed (`from-seq` → `--from-seq`). */
const asFlag = (path: ReadonlyArray<PropertyKey>): string => {
  const first = path[0];
  if (first === undefined) return 'input';
  if (first === 'password') return 'the password (read from stdin)';
  if (first === 'key') return 'the key (--key, --key-stdin)';
  return typeof first === 'string' ? `--${first.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}` : String(first);
};

/** One line for the operator: zod issues name the flag in words, never raw zod text. */
export function describeError(err: unknown): string {
  const e = err as { name?: string; issues?: Array<{ path: PropertyKey[]; message: string; code?: string; expected?: string; input?: unknown }>; message?: string };
  if (e?.name === 'ZodError' && Array.isArray(e.issues) && e.issues.length > 0) {
    const i = e.issues[0]!;
    if (i.path.length === 0) return i.message;
    const missing = i.code === 'invalid_type' && i.input === undefined;
    return missing ? `${asFlag(i.path)} is required` : `${asFlag(i.path)}: ${i.message}`;
  }
  const code = (err as { code?: string }).code;
  if (code === 'DEPTH_ZERO_SELF_SIGNED_CERT' || code === 'SELF_SIGNED_CERT_IN_CHAIN' || code === 'UNABLE_TO_VERIFY_LEAF_SIGNATURE') {
    return `${(err as Error).message}: trust the server's certificate with --ca FILE (its <data>/tls/server.crt when self-signed), or --insecure`;
  }
  if (code === 'ECONNREFUSED' || (code === 'ENOENT' && (err as { syscall?: string }).syscall === 'connect')) {
    return `cannot reach the server (${(err as Error).message}); is \`comms-api serve\` running on this data folder, or pass --server URL`;
  }
  return e?.message ?? String(err);
}
