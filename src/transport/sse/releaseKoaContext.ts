import type { IncomingMessage, ServerResponse } from 'node:http';

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
 * application is silent), so it is dropped from the queue and on-finished is made to tear down
 * its own listeners on the response and the socket (four per stream, with their closures): its
 * first-event listener, called with nothing left in the queue, removes them all. The hub's own
 * `close` listener still sees the stream end. The URL that Koa's `ctx.path` parsed and cached
 * on the request (parseurl's `req._parsedUrl`) is dropped too, once the middleware are done.
 */
export function releaseKoaContext(res: ServerResponse): void {
  const attached = (res as ServerResponse & { __onFinished?: OnFinishedListener | null }).__onFinished;
  if (attached?.queue) {
    attached.queue.length = 0;
    const first = res.listeners('finish').find((l) => l.name === 'onevent');
    first?.call(res);
  }
  // after the outer middleware (the request log reads `ctx.path`, which parses and caches it again)
  setImmediate(() => {
    const req = res.req as IncomingMessage & { _parsedUrl?: unknown };
    if (req._parsedUrl !== undefined) req._parsedUrl = undefined;
  });
}
