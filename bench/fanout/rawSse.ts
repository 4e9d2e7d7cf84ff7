/**
 * A lean SSE client for many idle agents: one raw TCP socket per stream, a hand-written
 * `GET` request, and a parser that only looks for `data: {"id":"…"` lines (the command id).
 * Times are `process.hrtime` (CLOCK_MONOTONIC, the same clock in every process of the machine),
 * in milliseconds, so receive times from worker processes compare with the issuer's.
 */
import net from 'node:net';
import tls from 'node:tls';

export const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

export interface StreamTarget {
  host: string;
  port: number;
  path: string;
  token?: string;
  localAddress?: string;
  /** TLS to the server's own (self-signed) pair: the handshake and record layer are what is measured, not the chain. */
  tls?: boolean;
}

const DATA_ID = /^data: \{"id":"([^"]+)"/;

/**
 * Opens the stream; resolves once the status line says 200, rejects otherwise. `onCommand` gets
 * each command id with its receive time; `onClose` is called if the stream ends afterwards.
 */
export function openRawStream(
  t: StreamTarget,
  onCommand: (id: string, at: number) => void,
  onClose: () => void,
): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const where = { host: t.host, port: t.port, ...(t.localAddress ? { localAddress: t.localAddress } : {}) };
    const socket: net.Socket = t.tls ? tls.connect({ ...where, rejectUnauthorized: false }) : net.connect(where);
    socket.setEncoding('latin1');
    socket.setNoDelay(true);
    let head = true;
    let rest = '';
    const auth = t.token ? `Authorization: Bearer ${t.token}\r\n` : '';
    socket.once(t.tls ? 'secureConnect' : 'connect', () => {
      socket.write(`GET ${t.path} HTTP/1.1\r\nHost: ${t.host}:${t.port}\r\nAccept: text/event-stream\r\n${auth}\r\n`);
    });
    const fail = (err: Error) => {
      if (head) reject(err);
    };
    socket.on('error', fail);
    socket.on('close', () => {
      if (head) reject(new Error('stream closed before its headers'));
      else onClose();
    });
    socket.on('data', (chunk: string) => {
      const at = nowMs();
      let text = rest + chunk;
      if (head) {
        const end = text.indexOf('\r\n\r\n');
        if (end === -1) {
          rest = text;
          return;
        }
        if (!text.startsWith('HTTP/1.1 200')) {
          socket.destroy();
          reject(new Error(`stream refused: ${text.slice(0, text.indexOf('\r\n'))}`));
          return;
        }
        head = false;
        resolve(socket);
        text = text.slice(end + 4);
      }
      const lastNl = text.lastIndexOf('\n');
      rest = lastNl === -1 ? text : text.slice(lastNl + 1);
      if (lastNl === -1) return;
      let from = 0;
      while (from <= lastNl) {
        const nl = text.indexOf('\n', from);
        if (text.startsWith('data: ', from)) {
          const m = DATA_ID.exec(text.slice(from, nl));
          if (m) onCommand(m[1]!, at);
        }
        from = nl + 1;
      }
    });
  });
}

/** Source addresses spread over several 127.x addresses: one address runs out of ephemeral ports. */
export const SOURCE_ADDRESSES = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6', '127.0.0.7', '127.0.0.8', '127.0.0.9'];
