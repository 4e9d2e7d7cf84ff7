import http from 'node:http';

/** One server-sent event as the agent sees it. */
export interface SseEvent {
  id?: string;
  event: string;
  data: string;
}

export interface SseStream {
  status: number;
  headers: http.IncomingHttpHeaders;
  events: SseEvent[];
  /** Comment lines seen (heartbeats). */
  comments: number;
  /** The last `retry:` hint, in ms. */
  retry?: number;
  /** Resolves with the first event (from the start of the stream) matching `pred` not yet taken by `next`. */
  next(pred?: (e: SseEvent) => boolean, safetyMs?: number): Promise<SseEvent>;
  /** Resolves when `n` comment lines have been seen. */
  waitComments(n: number, safetyMs?: number): Promise<void>;
  /** Resolves when the server ends the stream. */
  ended: Promise<void>;
  close(): void;
}

/** Parses an SSE byte stream (LF or CRLF) into events; a tiny, spec-following subset. */
export function createSseParser(onEvent: (e: SseEvent) => void, onComment: () => void, onRetry: (ms: number) => void) {
  let buffer = '';
  let current: { id?: string; event?: string; data: string[] } = { data: [] };
  return (chunk: string) => {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.search(/\r?\n/)) !== -1) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + (buffer[nl] === '\r' ? 2 : 1));
      if (line === '') {
        if (current.data.length > 0 || current.event) {
          onEvent({ ...(current.id !== undefined ? { id: current.id } : {}), event: current.event ?? 'message', data: current.data.join('\n') });
        }
        current = { data: [] };
        continue;
      }
      if (line.startsWith(':')) {
        onComment();
        continue;
      }
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'data') current.data.push(value);
      else if (field === 'event') current.event = value;
      else if (field === 'id') current.id = value;
      else if (field === 'retry' && /^\d+$/.test(value)) onRetry(Number(value));
    }
  };
}

export interface SseOptions {
  token?: string;
  lastEventId?: string;
  socketPath?: string;
  headers?: Record<string, string>;
}

/** Opens `GET url` with `Accept: text/event-stream` and parses the stream as it arrives. */
export function openSse(url: string, opts: SseOptions = {}): Promise<SseStream> {
  const u = new URL(url);
  const headers: Record<string, string> = { accept: 'text/event-stream', ...(opts.headers ?? {}) };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (opts.lastEventId !== undefined) headers['last-event-id'] = opts.lastEventId;
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: u.hostname, port: u.port, path: u.pathname + u.search, headers, ...(opts.socketPath ? { socketPath: opts.socketPath } : {}) },
      (res) => {
        const events: SseEvent[] = [];
        let taken = 0;
        const waiters = new Set<() => void>();
        const notify = () => {
          for (const w of [...waiters]) w();
        };
        let endedResolve!: () => void;
        const ended = new Promise<void>((r) => (endedResolve = r));
        const stream: SseStream = {
          status: res.statusCode ?? 0,
          headers: res.headers,
          events,
          comments: 0,
          ended,
          next(pred = () => true, safetyMs = 20_000) {
            return waitUntil(() => {
              for (let i = taken; i < events.length; i++) {
                if (pred(events[i]!)) {
                  taken = i + 1;
                  return events[i]!;
                }
              }
              return undefined;
            }, safetyMs, 'event');
          },
          waitComments(n, safetyMs = 20_000) {
            return waitUntil(() => (stream.comments >= n ? true : undefined), safetyMs, 'comment').then(() => undefined);
          },
          close() {
            req.destroy();
          },
        };
        function waitUntil<T>(check: () => T | undefined, safetyMs: number, what: string): Promise<T> {
          return new Promise<T>((ok, fail) => {
            const tryNow = () => {
              const v = check();
              if (v === undefined) return false;
              waiters.delete(tryNow);
              clearTimeout(timer);
              ok(v);
              return true;
            };
            const timer = setTimeout(() => {
              waiters.delete(tryNow);
              fail(new Error(`no matching ${what} within ${safetyMs} ms; got ${JSON.stringify(events)}`));
            }, safetyMs);
            if (!tryNow()) waiters.add(tryNow);
          });
        }
        const parse = createSseParser(
          (e) => {
            events.push(e);
            notify();
          },
          () => {
            stream.comments += 1;
            notify();
          },
          (ms) => (stream.retry = ms),
        );
        res.setEncoding('utf8');
        res.on('data', parse);
        res.on('end', endedResolve);
        res.on('close', endedResolve);
        res.on('error', endedResolve);
        resolve(stream);
      },
    );
    req.on('error', reject);
  });
}

/** The command objects carried by `event: command` frames. */
export const commandsOf = (events: SseEvent[]): Array<{ id: string; [k: string]: unknown }> =>
  events.filter((e) => e.event === 'command').map((e) => JSON.parse(e.data));
