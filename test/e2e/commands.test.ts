import { statSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { adminCall, adminUpload, call, login } from '../support/client.js';
import { AGENT_KEY, runCli, spawnServer, tempDir, type ServerProcess } from '../support/server.js';
import { commandsOf, openSse, type SseStream } from '../support/sse.js';


interface Ctx {
  dataDir: string;
  socket: string;
  server: ServerProcess;
  streams: SseStream[];
}

const e2e = suite<Ctx>('commands against the real server process');

e2e.before(async (ctx) => {
  ctx.dataDir = tempDir('comms-api-e2e-commands-');
  ctx.socket = join(ctx.dataDir, 'admin.sock');
  ctx.streams = [];
  const user = await runCli(['users', 'add', 'audrey', '--role', 'auditor'], { COMMS_API_DATA_DIR: ctx.dataDir }, 'correct horse battery');
  assert.is(user.code, 0, user.stderr);
  ctx.server = await spawnServer(ctx.dataDir);
});

e2e.after(async (ctx) => {
  for (const s of ctx.streams) s.close();
  await ctx.server.kill('SIGTERM');
  rmSync(ctx.dataDir, { recursive: true, force: true });
});

e2e('a command issued over the admin socket reaches agents over SSE and long-poll, and its trail survives a restart', async (ctx) => {
  assert.is(statSync(ctx.socket).mode & 0o777, 0o600);
  for (const uuid of ['edge-1', 'edge-2']) {
    const r = await adminCall(ctx.socket, 'POST', '/agents', { uuid, key: AGENT_KEY, groups: ['edge'] });
    assert.is(r.status, 201, JSON.stringify(r.body));
  }
  const api = () => ctx.server.api;
  const [t1, t2, auditor] = await Promise.all([
    login(api(), { uuid: 'edge-1', key: AGENT_KEY }),
    login(api(), { uuid: 'edge-2', key: AGENT_KEY }),
    login(api(), { username: 'audrey', password: 'correct horse battery' }),
  ]);

  const s1 = await openSse(`${api()}/commands`, { token: t1 });
  ctx.streams.push(s1);
  assert.is(await adminUpload(ctx.socket, 'agent-5.0.deb'), 201);
  const issued = await adminCall(ctx.socket, 'POST', '/commands', { action: { name: 'upgrade', args: { package: 'agent-5.0.deb' } }, target: { type: 'group', id: 'edge' } });
  assert.is(issued.status, 201);
  assert.is(issued.body.targets, 2);
  const id = issued.body.id as string;

  const frame = await s1.next((e) => e.event === 'command');
  assert.is(JSON.parse(frame.data).id, id);
  // the stream's delivery is journaled in the background; wait for it so the trail's order is fixed
  for (let i = 0; i < 200; i++) {
    const h = await call('GET', `${api()}/commands/history?command=${id}&status=delivered`, { token: auditor });
    if (h.body.items.length === 1) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  const polled = await call('GET', `${api()}/commands?wait=10`, { token: t2 });
  assert.equal(polled.body.commands.map((c: { id: string }) => c.id), [id]);
  assert.is((await call('POST', `${api()}/commands/${id}/result`, { token: t1, json: { status: 'success', message: 'upgraded' } })).status, 204);
  assert.is((await call('POST', `${api()}/commands/${id}/result`, { token: t2, json: { status: 'failure', code: 12 } })).status, 204);

  // restart: the stream ends, seeds are not journaled again, nothing reported is offered again
  const catalogBefore = await adminCall(ctx.socket, 'GET', '/catalog');
  await ctx.server.kill('SIGTERM');
  await s1.ended;
  ctx.server = await spawnServer(ctx.dataDir);
  const catalogAfter = await adminCall(ctx.socket, 'GET', '/catalog');
  assert.equal(catalogAfter.body, catalogBefore.body);

  const again = await openSse(`${api()}/commands`, { token: t1, lastEventId: frame.id! });
  ctx.streams.push(again);
  const sentinel = await adminCall(ctx.socket, 'POST', '/commands', { action: { name: 'refresh' }, target: { type: 'agent', id: 'edge-1' } });
  await again.next((e) => JSON.parse(e.data).id === sentinel.body.id);
  assert.equal(commandsOf(again.events).map((c) => c.id), [sentinel.body.id]);

  const history = await call('GET', `${api()}/commands/history?command=${id}`, { token: auditor });
  assert.is(history.status, 200);
  const trail = history.body.items.map((i: any) => `${i.agent} ${i.state} ${i.actor}`);
  assert.equal(trail, [
    'edge-1 pending admin-socket',
    'edge-2 pending admin-socket',
    'edge-1 delivered agent:edge-1',
    'edge-2 delivered agent:edge-2',
    'edge-1 success agent:edge-1',
    'edge-2 failure agent:edge-2',
  ]);
  assert.ok(history.body.items.every((i: any) => Number.isFinite(Date.parse(i.time))));
  const verify = await call('GET', `${api()}/journal/verify`, { token: auditor });
  assert.is(verify.body.ok, true);
});

e2e.run();
