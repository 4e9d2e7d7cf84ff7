import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import Koa from 'koa';
import pino from 'pino';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Principal } from '../../../src/transport/http/auth.js';
import { createCommandStreamHandover } from '../../../src/transport/sse/commandStream.js';
import { createSseHub, type SseHub } from '../../../src/transport/sse/hub.js';
import { eventually } from '../../support/eventually.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

interface Ctx {
  server: http.Server;
  url: string;
  hub: SseHub;
  streams: http.ServerResponse[];
  contexts: Array<WeakRef<object>>;
  logged: Array<{ route: string; status: number }>;
}

const AGENT: Principal = { sub: 'agent-1', role: 'agent', actor: 'agent:agent-1' };

/**
 * A server like the real one: the handover first, then a Koa app whose middleware hands each
 * response over (`respond = false`), as the SSE route did before the handover existed.
 */
async function setup(ctx: Ctx, handover: boolean): Promise<void> {
  ctx.streams = [];
  ctx.contexts = [];
  ctx.logged = [];
  ctx.hub = createSseHub();
  const app = new Koa();
  app.silent = true;
  app.use((kctx) => {
    kctx.state.big = Buffer.alloc(64 * 1024);
    ctx.contexts.push(new WeakRef(kctx));
    if (kctx.get('Authorization') !== 'Bearer good') {
      kctx.status = 401;
      kctx.body = 'answered by Koa';
      return;
    }
    kctx.respond = false;
    ctx.streams.push(kctx.res);
    ctx.hub.open(AGENT.sub, kctx.res, []);
  });
  const koa = app.callback();
  const handOver = createCommandStreamHandover({
    path: '/api/v1/commands',
    hub: ctx.hub,
    pendingCommands: () => [],
    agentConnected: () => {},
    principalOfToken: async (authorization) => (authorization === 'Bearer good' ? AGENT : undefined),
    log: {
      logger: pino({ level: 'silent' }),
      metrics: { observeRequest: (_m, route, status) => ctx.logged.push({ route, status }) },
    },
  });
  const handler = handover
    ? (req: http.IncomingMessage, res: http.ServerResponse) => {
        void handOver(req, res).then((taken) => {
          if (taken) ctx.streams.push(res);
          else void koa(req, res);
        });
      }
    : koa;
  ctx.server = http.createServer(handler);
  await new Promise<void>((r) => ctx.server.listen(0, '127.0.0.1', r));
  ctx.url = `http://127.0.0.1:${(ctx.server.address() as AddressInfo).port}`;
}

const streamHeaders = (token: string) => ({ Accept: 'text/event-stream', Authorization: `Bearer ${token}` });

/** Opens `n` streams and resolves with their requests once each got its first bytes. */
function openStreams(url: string, n: number): Promise<http.ClientRequest[]> {
  return Promise.all(
    Array.from({ length: n }, () => new Promise<http.ClientRequest>((resolve, reject) => {
      const req = http.get(`${url}/api/v1/commands`, { headers: streamHeaders('good') }, (res) => res.once('data', () => resolve(req)));
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
  ctx.hub.close();
  ctx.server.closeAllConnections();
  await new Promise((r) => ctx.server.close(r));
}

const handover = suite<Ctx>('command stream handover');
handover.after.each(teardown);

handover('a handed-over stream never gets a Koa context nor on-finished listeners, and its close is still seen', async (ctx) => {
  await setup(ctx, true);
  const clients = await openStreams(ctx.url, 5);
  await collect();
  assert.is(ctx.contexts.length, 0, 'Koa made no context for the streams');
  assert.is(ctx.hub.streamCount(), 5);
  assert.ok(ctx.streams.every((res) => !res.writableEnded), 'the streams stay open');
  for (const res of ctx.streams) {
    const named = (l: Function) => l.name;
    assert.not.ok([...res.listeners('finish'), ...res.listeners('end')].map(named).includes('onevent'), 'no on-finished listeners');
    assert.not.ok([...res.socket!.listeners('close'), ...res.socket!.listeners('error')].map(named).includes('onevent'));
  }
  assert.equal(ctx.logged, Array.from({ length: 5 }, () => ({ route: '/api/v1/commands', status: 200 })), 'logged and counted as the route');
  for (const c of clients) c.destroy();
  await eventually(async () => ctx.hub.streamCount(), (n) => n === 0);
});

handover('a request the handover declines (no valid token, no stream asked for) is answered by Koa', async (ctx) => {
  await setup(ctx, true);
  const get = (headers: Record<string, string>) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      http.get(`${ctx.url}/api/v1/commands`, { headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      }).on('error', reject);
    });
  assert.equal(await get(streamHeaders('bad')), { status: 401, body: 'answered by Koa' });
  assert.equal(await get({ Authorization: 'Bearer bad' }), { status: 401, body: 'answered by Koa' });
  assert.is(ctx.contexts.length, 2);
  assert.is(ctx.hub.streamCount(), 0);
});

handover('without it, Koa keeps each open stream’s context (what the handover is for)', async (ctx) => {
  await setup(ctx, false);
  const clients = await openStreams(ctx.url, 3);
  await collect();
  assert.equal(ctx.contexts.map((w) => w.deref() !== undefined), [true, true, true]);
  assert.ok(ctx.streams.every((res) => res.listeners('finish').some((l) => l.name === 'onevent')));
  for (const c of clients) c.destroy();
});

handover.run();
