/**
 * A worker process of the logins benchmark's reconnect storm: opens its share of the agents'
 * connections (bench/logins/stormClient.ts) as fast as `concurrency` allows, answers when all are
 * open, and holds them until told to close. Driven over IPC by bench/logins.bench.ts.
 */
import type tls from 'node:tls';
import { SOURCE_ADDRESSES } from '../fanout/rawSse.js';
import { nowMs, stormOne, type StormMode } from './stormClient.js';

export type StormRequest =
  | { type: 'storm'; host: string; port: number; key: string; mode: StormMode; uuids: string[]; offset: number; concurrency: number }
  | { type: 'close' };
export type StormReply =
  | { type: 'stormed'; ok: number; failed: number; first: number; last: number; error?: string }
  | { type: 'closed'; dropped: number };

const sockets: tls.TLSSocket[] = [];
let closing = false;
let dropped = 0;
const send = (m: StormReply) => process.send!(m);

async function storm(m: Extract<StormRequest, { type: 'storm' }>): Promise<void> {
  let next = 0;
  let ok = 0;
  let failed = 0;
  let error: string | undefined;
  const first = nowMs();
  let last = first;
  const one = async () => {
    while (next < m.uuids.length) {
      const i = next++;
      const localAddress = SOURCE_ADDRESSES[(m.offset + i) % SOURCE_ADDRESSES.length]!;
      try {
        const s = await stormOne({ host: m.host, port: m.port, key: m.key, localAddress }, m.uuids[i]!, m.mode);
        s.on('close', () => {
          if (!closing) dropped += 1;
        });
        sockets.push(s);
        ok += 1;
        last = nowMs();
      } catch (err) {
        failed += 1;
        error ??= (err as Error).message;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(m.concurrency, m.uuids.length) }, one));
  send({ type: 'stormed', ok, failed, first, last, ...(error ? { error } : {}) });
}

process.on('message', (m: StormRequest) => {
  if (m.type === 'storm') {
    closing = false;
    dropped = 0;
    void storm(m);
  } else {
    closing = true;
    for (const s of sockets) s.destroy();
    sockets.length = 0;
    send({ type: 'closed', dropped });
  }
});
process.on('disconnect', () => process.exit(0));
