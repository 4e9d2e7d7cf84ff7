/**
 * One agent of the reconnect storm over TLS, on a raw `tls` socket: `login+sse` sends
 * `POST /api/v1/login {uuid, key}` and, on the same connection, `GET /api/v1/commands`
 * (`Accept: text/event-stream`), done when the stream's `200` headers arrive; `baseline` does the
 * TLS handshake and one `GET /api/v1/health`, done when its answer is complete. The socket stays
 * open either way (the server holds as many connections in both cases). `login` stops after the
 * login (the steady re-login: one new TLS connection per login).
 */
import tls from 'node:tls';

export type StormMode = 'login+sse' | 'login' | 'baseline';

export interface StormTarget {
  host: string;
  port: number;
  key: string;
  localAddress?: string;
}

export const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

/** Reads one HTTP/1.1 response head (and its Content-Length body) from the socket's data. */
function responses(socket: tls.TLSSocket) {
  let buf = '';
  let want: ((r: { status: number; body: string }) => void) | null = null;
  let fail: ((e: Error) => void) | null = null;
  let streaming = false;
  const tryParse = () => {
    if (!want || streaming) return;
    const end = buf.indexOf('\r\n\r\n');
    if (end === -1) return;
    const head = buf.slice(0, end);
    const status = Number(head.slice(9, 12));
    const sse = /content-type: text\/event-stream/i.test(head);
    const len = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
    if (!sse && buf.length < end + 4 + len) return;
    const body = sse ? '' : buf.slice(end + 4, end + 4 + len);
    buf = sse ? '' : buf.slice(end + 4 + len);
    streaming = sse;
    const w = want;
    want = null;
    w({ status, body });
  };
  socket.setEncoding('latin1');
  socket.on('data', (d: string) => {
    if (streaming) return;
    buf += d;
    tryParse();
  });
  socket.on('error', (e) => fail?.(e));
  socket.on('close', () => fail?.(new Error('closed')));
  return {
    next: () =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        want = resolve;
        fail = reject;
        tryParse();
      }),
  };
}

export function stormOne(t: StormTarget, uuid: string, mode: StormMode): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: t.host, port: t.port, rejectUnauthorized: false, ...(t.localAddress ? { localAddress: t.localAddress } : {}) });
    socket.setNoDelay(true);
    const r = responses(socket);
    const host = `${t.host}:${t.port}`;
    socket.once('secureConnect', async () => {
      try {
        if (mode === 'baseline') {
          socket.write(`GET /api/v1/health HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
          const h = await r.next();
          if (h.status !== 200) throw new Error(`health: ${h.status}`);
          return resolve(socket);
        }
        const body = JSON.stringify({ uuid, key: t.key });
        socket.write(`POST /api/v1/login HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
        const l = await r.next();
        const token = /"token":"([^"]+)"/.exec(l.body)?.[1];
        if (l.status !== 200 || !token) throw new Error(`login: ${l.status} ${l.body.slice(0, 200)}`);
        if (mode === 'login') return resolve(socket);
        socket.write(`GET /api/v1/commands HTTP/1.1\r\nHost: ${host}\r\nAccept: text/event-stream\r\nAuthorization: Bearer ${token}\r\n\r\n`);
        const s = await r.next();
        if (s.status !== 200) throw new Error(`stream: ${s.status}`);
        resolve(socket);
      } catch (err) {
        socket.destroy();
        reject(err);
      }
    });
    socket.once('error', reject);
  });
}
