import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import Koa from 'koa';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { releaseKoaContext } from '../../../src/transport/sse/releaseKoaContext.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

interface Ctx {
  server: http.Server;
  url: string;
  streams: http.ServerResponse[];
  contexts: Array<WeakRef<object>>;
  closed: number;
}

/** A Koa app that hands each response over (`respond = false`), like the SSE route, releasing or not. */
async function setup(ctx: Ctx, release: boolean): Promise<void> {
  ctx.streams = [];
  ctx.contexts = [];
  ctx.closed = 0;
  const app = new Koa();
  app.silent = true;
  app.use((kctx) => {
    kctx.state.big = Buffer.alloc(64 * 1024);
    kctx.respond = false;
    kctx.res.writeHead(200, { 'Content-Type': 'text/event-stream' });
    kctx.res.write(': open\n\n');
    kctx.res.once('close', () => (ctx.closed += 1));
    ctx.streams.push(kctx.res);
    ctx.contexts.push(new WeakRef(kctx));
    if (release) releaseKoaContext(kctx.res);
  });
  ctx.server = http.createServer(app.callback());
  await new Promise<void>((r) => ctx.server.listen(0, '127.0.0.1', r));
  ctx.url = `http://127.0.0.1:${(ctx.server.address() as AddressInfo).port}`;
}

/** Opens `n` streams and resolves with their requests once each got its first bytes. */
function openStreams(url: string, n: number): Promise<http.ClientRequest[]> {
  return Promise.all(
    Array.from({ length: n }, () => new Promise<http.ClientRequest>((resolve, reject) => {
      const req = http.get(url, (res) => res.once('data', () => resolve(req)));
      req.on('error', reject);
    })),
  );
}

async function collect(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setImmediate(r));
  }
}

async function teardown(ctx: Ctx): Promise<void> {
  ctx.server.closeAllConnections();
  await new Promise((r) => ctx.server.close(r));
}

const released = suite<Ctx>('releaseKoaContext');
released.after.each(teardown);

released('a handed-over stream no longer keeps its Koa context alive, and its close is still seen', async (ctx) => {
  await setup(ctx, true);
  const clients = await openStreams(ctx.url, 5);
  await collect();
  assert.equal(ctx.contexts.map((w) => w.deref() === undefined), [true, true, true, true, true]);
  assert.ok(ctx.streams.every((res) => !res.writableEnded), 'the streams stay open');
  for (const res of ctx.streams) {
    const named = (l: Function) => l.name;
    assert.not.ok([...res.listeners('finish'), ...res.listeners('end')].map(named).includes('onevent'), 'on-finished listeners are gone');
    assert.not.ok([...res.socket!.listeners('close'), ...res.socket!.listeners('error')].map(named).includes('onevent'));
  }
  for (const c of clients) c.destroy();
  for (let i = 0; i < 200 && ctx.closed < 5; i++) await new Promise((r) => setTimeout(r, 10));
  assert.is(ctx.closed, 5);
});

released('without it, Koa keeps each open stream’s context (what the release is for)', async (ctx) => {
  await setup(ctx, false);
  const clients = await openStreams(ctx.url, 3);
  await collect();
  assert.equal(ctx.contexts.map((w) => w.deref() !== undefined), [true, true, true]);
  assert.ok(ctx.streams.every((res) => res.listeners('finish').some((l) => l.name === 'onevent')));
  for (const c of clients) c.destroy();
});

released.run();
