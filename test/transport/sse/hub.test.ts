import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { firstValueFrom, toArray, take, timeout } from 'rxjs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { PendingCommand } from '../../../src/projections/commandsReads.js';
import { createSseHub, type HubOptions, type SseHub } from '../../../src/transport/sse/hub.js';
import { commandsOf, openSse, type SseStream } from '../../support/sse.js';
import { eventually } from '../../support/eventually.js';

interface Ctx {
  hub: SseHub;
  server: http.Server;
  url: string;
  backlog: PendingCommand[];
  streams: SseStream[];
}

const command = (id: string) => ({
  id,
  action: { name: 'restart', args: {}, version: '1' },
  target: { type: 'all' as const },
  issued_at: new Date(0).toISOString(),
  expires_at: new Date(60_000).toISOString(),
});

const until = (check: () => boolean, what: string) => eventually(check, Boolean, { what, ms: 10_000, everyMs: 10 });

/** A real HTTP server whose only route hands `/<agent>` to the hub, with `ctx.backlog` as backlog. */
async function setup(ctx: Ctx, opts: HubOptions = {}): Promise<void> {
  ctx.hub = createSseHub(opts);
  ctx.backlog = [];
  ctx.streams = [];
  ctx.server = http.createServer((req, res) => ctx.hub.open(req.url!.slice(1), res, ctx.backlog));
  await new Promise<void>((r) => ctx.server.listen(0, '127.0.0.1', r));
  ctx.url = `http://127.0.0.1:${(ctx.server.address() as AddressInfo).port}`;
}
async function teardown(ctx: Ctx): Promise<void> {
  for (const s of ctx.streams) s.close();
  ctx.hub.close();
  ctx.server.closeAllConnections();
  await new Promise((r) => ctx.server.close(r));
}
const open = async (ctx: Ctx, agent: string) => {
  const s = await openSse(`${ctx.url}/${agent}`);
  ctx.streams.push(s);
  return s;
};

const hub = suite<Ctx>('the SSE hub');
hub.before.each((ctx) => setup(ctx, { heartbeatMs: 40 }));
hub.after.each(teardown);

hub('a shared timer writes a comment line to every stream', async (ctx) => {
  const [a, b] = await Promise.all([open(ctx, 'a'), open(ctx, 'b')]);
  await Promise.all([a.waitComments(2), b.waitComments(2)]);
  assert.ok(a.comments >= 2 && b.comments >= 2);
});

hub('it knows who is connected and forgets a closed stream at once', async (ctx) => {
  assert.is(ctx.hub.isConnected('a'), false);
  const a1 = await open(ctx, 'a');
  await open(ctx, 'a');
  await open(ctx, 'b');
  assert.is(ctx.hub.isConnected('a'), true);
  assert.is(ctx.hub.connectedCount(), 2);
  assert.is(ctx.hub.streamCount(), 3);
  a1.close();
  await until(() => ctx.hub.streamCount() === 2, 'the closed stream to be removed');
  assert.is(ctx.hub.isConnected('a'), true);
  ctx.streams[1]!.close();
  await until(() => !ctx.hub.isConnected('a'), 'agent a to be disconnected');
  assert.is(ctx.hub.connectedCount(), 1);
});

hub('a broadcast reaches every stream of each target once, and reports one delivery per agent', async (ctx) => {
  const deliveries = firstValueFrom(ctx.hub.deliveries$.pipe(take(2), toArray(), timeout(5000)));
  const [a1, a2, b, c] = await Promise.all([open(ctx, 'a'), open(ctx, 'a'), open(ctx, 'b'), open(ctx, 'c')]);
  assert.is(ctx.hub.broadcast(command('c1'), 7, ['a', 'b', 'nobody']), 2);
  assert.is(ctx.hub.broadcast(command('c1'), 7, ['a']), 0, 'never twice on one connection');
  for (const s of [a1!, a2!, b!]) {
    const e = await s.next((e) => e.event === 'command');
    assert.is(e.id, '7');
    assert.is(JSON.parse(e.data).id, 'c1');
  }
  assert.equal((await deliveries).map((d) => d.agent).sort(), ['a', 'b']);
  ctx.hub.broadcast(command('c2'), 8, ['c']);
  await c!.next((e) => e.event === 'command');
  assert.equal(commandsOf(c!.events).map((x) => x.id), ['c2']);
});

hub('the backlog is written first and a backlog command is not sent again live', async (ctx) => {
  ctx.backlog = [
    { cursor: 3, state: 'delivered', command: command('old') },
    { cursor: 5, state: 'pending', command: command('new') },
  ];
  const delivered = firstValueFrom(ctx.hub.deliveries$.pipe(take(1), timeout(5000)));
  const s = await open(ctx, 'a');
  ctx.hub.broadcast(command('new'), 5, ['a']);
  ctx.hub.broadcast(command('live'), 9, ['a']);
  await s.next((e) => e.id === '9');
  assert.equal(s.events.map((e) => e.id), ['3', '5', '9']);
  assert.equal(await delivered, { agent: 'a', id: 'new' }, 'only the pending one counts as a first delivery');
});

hub('pushConfig sends event: config to the connected agents among those named', async (ctx) => {
  const [a, b] = await Promise.all([open(ctx, 'a'), open(ctx, 'b')]);
  assert.is(ctx.hub.pushConfig(['a', 'offline'], { etag: '"x1"', group: 'web' }), 1);
  const e = await a!.next((e) => e.event === 'config');
  assert.equal(JSON.parse(e.data), { etag: '"x1"', group: 'web' });
  ctx.hub.broadcast(command('marker'), 1, ['b']);
  await b!.next((e) => e.event === 'command');
  assert.not.ok(b!.events.some((e) => e.event === 'config'));
});

hub('waitFor wakes a long-poll when a command for that agent is broadcast, or when aborted', async (ctx) => {
  let woke = false;
  const waiting = ctx.hub.waitFor('a', 60_000).then(() => (woke = true));
  ctx.hub.broadcast(command('x'), 1, ['b']);
  await new Promise((r) => setTimeout(r, 20));
  assert.is(woke, false);
  ctx.hub.broadcast(command('y'), 2, ['a']);
  await waiting;
  const abort = new AbortController();
  const aborted = ctx.hub.waitFor('a', 60_000, abort.signal);
  abort.abort();
  await aborted;
});

hub('close ends every stream and refuses new ones', async (ctx) => {
  const [a, b] = await Promise.all([open(ctx, 'a'), open(ctx, 'b')]);
  ctx.hub.close();
  await Promise.all([a!.ended, b!.ended]);
  assert.is(ctx.hub.connectedCount(), 0);
  const late = await open(ctx, 'c');
  assert.is(late.status, 503);
});

hub.run();

const slow = suite<Ctx>('a stream that does not read');
slow.before.each((ctx) => setup(ctx, { maxBufferedBytes: 64 * 1024 }));
slow.after.each(teardown);

slow('is dropped once its unsent bytes pass the limit, and the others go on', async (ctx) => {
  const stalled = await new Promise<http.IncomingMessage>((resolve) => http.get(`${ctx.url}/slow`, resolve));
  stalled.pause();
  const ok = await open(ctx, 'fast');
  const big = { ...command('big'), action: { name: 'restart', args: { pad: 'x'.repeat(256 * 1024) }, version: '1' } };
  for (let i = 0; i < 200 && ctx.hub.isConnected('slow'); i++) ctx.hub.broadcast({ ...big, id: `big-${i}` }, i, ['slow']);
  assert.is(ctx.hub.isConnected('slow'), false);
  ctx.hub.broadcast(command('after'), 1000, ['fast']);
  await ok.next((e) => JSON.parse(e.data).id === 'after');
  stalled.destroy();
});

slow.run();

const expiry = suite<Ctx & { now: number }>('streams end with their token');
expiry.before.each(async (ctx) => {
  ctx.now = 1_000_000;
  ctx.hub = createSseHub({ expirySweepMs: 20, now: () => ctx.now });
  ctx.backlog = [];
  ctx.streams = [];
  // `/<agent>/<expires at, epoch ms>`
  ctx.server = http.createServer((req, res) => {
    const [, agent, at] = req.url!.split('/');
    ctx.hub.open(agent!, res, ctx.backlog, Number(at));
  });
  await new Promise<void>((r) => ctx.server.listen(0, '127.0.0.1', r));
  ctx.url = `http://127.0.0.1:${(ctx.server.address() as AddressInfo).port}`;
});
expiry.after.each(teardown);

expiry('one shared sweep ends each stream in the second its token expires, with event: reauth', async (ctx) => {
  const soon = await openSse(`${ctx.url}/a/${ctx.now + 2_000}`);
  const later = await openSse(`${ctx.url}/b/${ctx.now + 60_000}`);
  ctx.streams.push(soon, later);
  await until(() => ctx.hub.streamCount() === 2, 'two streams');
  ctx.now += 2_500;
  const e = await soon.next((x) => x.event === 'reauth', 5_000);
  assert.equal(JSON.parse(e.data), { reason: 'expired' });
  await soon.ended;
  assert.is(ctx.hub.streamCount(), 1);
  assert.ok(ctx.hub.isConnected('b'));
  ctx.hub.disconnect('b');
  assert.equal(JSON.parse((await later.next((x) => x.event === 'reauth', 5_000)).data), { reason: 'revoked' });
});

expiry.run();
