import type { ServerResponse } from 'node:http';

/** What on-finished 2.x (used by Koa) keeps on a response: the callbacks to run when it finishes. */
interface OnFinishedListener {
  queue: unknown[] | null;
}

/**
 * Koa keeps every request's context alive until its response finishes: it registers
 * `onFinished(res, err => ctx.onerror(err))` before running the middleware. An SSE stream that
 * Koa no longer answers (`ctx.respond = false`) lives for hours, and with it the context, the
 * request and response wrappers, the state and the principal (several KB per stream). Once the
 * hub owns the response, that callback has nothing left to do (the headers are sent and the
 * application is silent), so it is dropped from the queue: the context can be collected, and the
 * hub's own `close` listener still sees the stream end.
 */
export function releaseKoaContext(res: ServerResponse): void {
  const attached = (res as ServerResponse & { __onFinished?: OnFinishedListener }).__onFinished;
  if (attached?.queue) attached.queue.length = 0;
}
