/**
 * An expected failure that knows how HTTP answers it, as Koa's own errors do (`status`, `expose`):
 * the one lookup in src/transport/http/problem.ts turns any of them into problem+json. Defined
 * beside the decision that throws it; nothing below HTTP reads these fields.
 */
export abstract class StatusError extends Error {
  abstract readonly status: number;
  /** The message is meant for the client (a 5xx without it answers with no internals). */
  readonly expose: boolean = true;
  /** Response headers the answer carries (`Retry-After`, `ETag`…). */
  readonly headers: Record<string, string> = {};
  /** Members added to the problem+json body (`errors`…). */
  readonly problem: Record<string, unknown> = {};
}
