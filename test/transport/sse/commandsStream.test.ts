import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { call } from '../../support/client.js';
import { commandsOf, openSse, type SseStream } from '../../support/sse.js';
import { commandsWorld, journalRows, type CommandsWorld } from '../../commands/fixtures.js';
import { eventually, isDefined } from '../../support/eventually.js';

interface Ctx {
  w: CommandsWorld;
  streams: SseStream[];
}

const stream = (w: CommandsWorld, uuid: string, lastEventId?: string) =>
  openSse(`${w.api}/commands`, { token: w.agentToken(uuid), ...(lastEventId !== undefined ? { lastEventId } : {}) });

const until = <T>(f: () => T | undefined | Promise<T | undefined>, what: string): Promise<T> =>
  eventually(f, isDefined, { what, ms: 20_000, everyMs: 25 });

const sse = suite<Ctx>('GET /commands as server-sent events');
sse.before.each(async (ctx) => {
  ctx.w = await commandsWorld();
  ctx.streams = [];
});
sse.after.each(async (ctx) => {
  for (const s of ctx.streams) s.close();
  await ctx.w.stop();
});

sse('the stream sends a retry hint, the pending commands, then live ones, each with a cursor', async (ctx) => {
  const { w } = ctx;
  const [a] = await w.addAgents('agent', 1);
  await w.uploadPackage('p.deb');
  const first = await w.issue({ action: { name: 'upgrade', args: { package: 'p.deb', version: '2' } }, target: { type: 'agent', id: a } });
  const s = await stream(w, a!);
  ctx.streams.push(s);
  assert.is(s.status, 200);
  assert.match(String(s.headers['content-type']), 'text/event-stream');
  const backlog = await s.next();
  assert.is(backlog.event, 'command');
  assert.ok(s.retry !== undefined && s.retry >= 1000, `retry hint ${s.retry}`);
  const cmd = JSON.parse(backlog.data);
  assert.equal(Object.keys(cmd).sort(), ['action', 'document_id', 'expires_at', 'id', 'issued_at', 'target']);
  assert.is(cmd.document_id, cmd.id, 'the id also where the existing Wazuh agent reads it');
  assert.equal(cmd.action, { name: 'upgrade', args: { package: 'p.deb', version: '2' }, version: '1' });
  assert.is(cmd.id, first.body.id);
  const live = await w.issue({ action: { name: 'restart' }, target: { type: 'agent', id: a } });
  const next = await s.next();
  assert.is(JSON.parse(next.data).id, live.body.id);
  assert.ok(Number(next.id) > Number(backlog.id), 'cursors grow');
  await until(() => (journalRows(w.journal, ['CommandDelivered']).length === 2 ? true : undefined), 'deliveries');
  const delivered = journalRows(w.journal, ['CommandDelivered']).map((d) => d.data.id);
  assert.equal(delivered, [first.body.id, live.body.id]);
});

sse('other roles cannot open the stream (403), and without a token it is 401', async (ctx) => {
  const { w } = ctx;
  const op = await openSse(`${w.api}/commands`, { token: w.operator });
  ctx.streams.push(op);
  assert.is(op.status, 403);
  const anon = await openSse(`${w.api}/commands`);
  ctx.streams.push(anon);
  assert.is(anon.status, 401);
});

sse('an agent that drops and reconnects with Last-Event-ID gets every unreported command once per connection, never a reported one', async (ctx) => {
  const { w } = ctx;
  const [a] = await w.addAgents('agent', 1);
  const target = { type: 'agent', id: a };
  const issued: string[] = [];
  const reported = new Set<string>();
  let lastEventId: string | undefined;
  const issue = async () => {
    const r = await w.issue({ action: { name: 'refresh' }, target });
    assert.is(r.status, 201);
    issued.push(r.body.id);
    return r.body.id as string;
  };
  for (let round = 0; round < 12; round++) {
    await issue();
    // commands race with the connection: each lands in the backlog or is pushed live, never both
    const [s] = await Promise.all([stream(w, a!, round === 5 ? 'not-a-cursor' : lastEventId), issue(), issue()]);
    ctx.streams.push(s);
    await Promise.all([issue(), issue()]);
    const sentinel = await issue();
    await s.next((e) => JSON.parse(e.data).id === sentinel);
    const got = commandsOf(s.events).map((c) => c.id);
    assert.is(new Set(got).size, got.length, `round ${round}: a command came twice on one connection`);
    for (const id of got) assert.not.ok(reported.has(id), `round ${round}: ${id} was already reported`);
    const expected = issued.filter((id) => !reported.has(id));
    assert.equal([...got].sort(), [...expected].sort(), `round ${round}`);
    // report on the two oldest, then drop the connection abruptly
    for (const id of got.slice(0, 2)) {
      const r = await call('POST', `${w.api}/commands/${id}/result`, { token: w.agentToken(a!), json: { status: 'success' } });
      assert.is(r.status, 204);
      reported.add(id);
    }
    lastEventId = s.events[s.events.length - 1]!.id;
    s.close();
  }
  // redeliveries journal nothing new: exactly one CommandDelivered per command
  await until(() => (journalRows(w.journal, ['CommandDelivered']).length === issued.length ? true : undefined), 'deliveries');
  await new Promise((r) => setTimeout(r, 100));
  const delivered = journalRows(w.journal, ['CommandDelivered']).map((d) => d.data.id);
  assert.equal([...delivered].sort(), [...issued].sort());
});

sse('a group command reaches exactly the group’s members', async (ctx) => {
  const { w } = ctx;
  const db = await w.addAgents('db', 3, ['db']);
  const web = await w.addAgents('web', 3, ['web']);
  const streams = new Map<string, SseStream>();
  for (const uuid of [...db, ...web]) {
    const s = await stream(w, uuid);
    ctx.streams.push(s);
    streams.set(uuid, s);
  }
  const group = await w.issue({ action: { name: 'restart' }, target: { type: 'group', id: 'db' } });
  assert.is(group.body.targets, 3);
  const sentinel = await w.issue({ action: { name: 'refresh' }, target: { type: 'all' } });
  for (const [uuid, s] of streams) {
    await s.next((e) => JSON.parse(e.data).id === sentinel.body.id);
    const got = commandsOf(s.events).map((c) => c.id);
    assert.equal(got, db.includes(uuid) ? [group.body.id, sentinel.body.id] : [sentinel.body.id], uuid);
  }
});

sse('1,000 connected agents all receive a broadcast, exactly once each', async (ctx) => {
  const { w } = ctx;
  const fleet = await w.addAgents('fleet', 1000, ['fleet']);
  const [outsider] = await w.addAgents('outsider', 1);
  for (let i = 0; i < fleet.length; i += 100) {
    ctx.streams.push(...(await Promise.all(fleet.slice(i, i + 100).map((uuid) => stream(w, uuid)))));
  }
  assert.ok(ctx.streams.every((s) => s.status === 200));
  const r = await w.issue({ action: { name: 'fetch-config' }, target: { type: 'group', id: 'fleet' } });
  assert.is(r.status, 201);
  assert.is(r.body.targets, 1000);
  await Promise.all(ctx.streams.map((s) => s.next((e) => e.event === 'command')));
  for (const s of ctx.streams) assert.equal(commandsOf(s.events).map((c) => c.id), [r.body.id]);
  // journaled per command and commit window: a few CommandsDelivered entries, 1,000 agents in all
  const deliveredAgents = () => journalRows(w.journal, ['CommandDelivered', 'CommandsDelivered']).flatMap((e) => e.data.agents ?? [e.data.agent]);
  await until(() => (deliveredAgents().length === 1000 ? true : undefined), '1,000 deliveries');
  assert.is(new Set(deliveredAgents()).size, 1000);
  assert.ok(journalRows(w.journal, ['CommandsDelivered']).length < 100, 'not one entry per agent');
  const details = await call('GET', `${w.api}/commands/${r.body.id}`, { token: w.auditor });
  assert.is(details.body.counts.delivered, 1000);
  assert.not.ok(details.body.targets.some((t: { agent: string }) => t.agent === outsider));
});

sse.run();

const stopping = suite('stopping the server');

stopping('ends every open stream', async () => {
  const w = await commandsWorld();
  const [a, b] = await w.addAgents('agent', 2);
  const streams = await Promise.all([stream(w, a!), stream(w, b!)]);
  await w.journal.close();
  await w.server.stop();
  await Promise.all(streams.map((s) => s.ended));
  assert.ok(true);
});

stopping.run();
