/**
 * A worker process of the fan-out benchmark: holds a share of the idle agent streams so the
 * issuing process (and its two probe streams) is not slowed by reading thousands of sockets.
 * Driven over IPC by bench/fanout.bench.ts; see `WorkerRequest` for the messages.
 */
import type net from 'node:net';
import { openRawStream, SOURCE_ADDRESSES } from './rawSse.js';

export type WorkerRequest =
  | { type: 'connect'; host: string; port: number; path: string; agents: Array<{ uuid: string; token?: string }>; offset: number; concurrency: number; tls?: boolean }
  | { type: 'wait'; id: string; count: number; timeoutMs: number }
  | { type: 'close' };

export type WorkerReply =
  | { type: 'connected'; ok: number; failed: number; error?: string }
  | { type: 'waited'; id: string; count: number; first: number; last: number }
  | { type: 'closed'; dropped: number };

interface Seen {
  count: number;
  first: number;
  last: number;
}

const sockets: net.Socket[] = [];
const seen = new Map<string, Seen>();
const waiters = new Map<string, { count: number; done: () => void }>();
let closing = false;
let dropped = 0;

const send = (m: WorkerReply) => process.send!(m);

function onCommand(id: string, at: number): void {
  let s = seen.get(id);
  if (!s) seen.set(id, (s = { count: 0, first: at, last: at }));
  s.count += 1;
  s.last = at;
  const w = waiters.get(id);
  if (w && s.count >= w.count) w.done();
}

function onClose(): void {
  if (!closing) dropped += 1;
}

async function connect(m: Extract<WorkerRequest, { type: 'connect' }>): Promise<void> {
  let next = 0;
  let ok = 0;
  let failed = 0;
  let error: string | undefined;
  const one = async () => {
    while (next < m.agents.length) {
      const i = next++;
      const a = m.agents[i]!;
      const localAddress = SOURCE_ADDRESSES[(m.offset + i) % SOURCE_ADDRESSES.length];
      try {
        const path = m.path.replace('{uuid}', encodeURIComponent(a.uuid));
        sockets.push(await openRawStream({ host: m.host, port: m.port, path, token: a.token, localAddress, tls: m.tls === true }, onCommand, onClose));
        ok += 1;
      } catch (err) {
        failed += 1;
        error ??= (err as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: m.concurrency }, one));
  send({ type: 'connected', ok, failed, ...(error ? { error } : {}) });
}

function wait(m: Extract<WorkerRequest, { type: 'wait' }>): void {
  const reply = () => {
    waiters.delete(m.id);
    clearTimeout(timer);
    const s = seen.get(m.id) ?? { count: 0, first: NaN, last: NaN };
    send({ type: 'waited', id: m.id, ...s });
  };
  const timer = setTimeout(reply, m.timeoutMs);
  if ((seen.get(m.id)?.count ?? 0) >= m.count) return reply();
  waiters.set(m.id, { count: m.count, done: reply });
}

process.on('message', (m: WorkerRequest) => {
  switch (m.type) {
    case 'connect':
      closing = false;
      dropped = 0;
      void connect(m);
      return;
    case 'wait':
      return wait(m);
    case 'close': {
      closing = true;
      for (const s of sockets) s.destroy();
      sockets.length = 0;
      seen.clear();
      send({ type: 'closed', dropped });
      return;
    }
    default: {
      const _exhaustive: never = m;
      return _exhaustive;
    }
  }
});
process.on('disconnect', () => process.exit(0));
