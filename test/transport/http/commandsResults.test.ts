import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { call } from '../../support/client.js';
import { commandsWorld, journalRows, type CommandsWorld } from '../../commands/fixtures.js';
import { eventually, isDefined } from '../../support/eventually.js';

interface Ctx {
  w: CommandsWorld;
  agents: string[];
  tokens: string[];
}

async function world(ctx: Ctx): Promise<void> {
  ctx.w = await commandsWorld();
  ctx.agents = await ctx.w.addAgents('agent', 3, ['web']);
  ctx.tokens = ctx.agents.map((a) => ctx.w.agentToken(a));
}

const report = (w: CommandsWorld, id: string, token: string, body: unknown) =>
  call('POST', `${w.api}/commands/${id}/result`, { token, json: body });

const results = suite<Ctx>('POST /commands/{id}/result');
results.before.each(world);
results.after.each(async (ctx) => ctx.w.stop());

results('a target reports success once (204); a second report is 409 and writes nothing', async ({ w, agents, tokens }) => {
  const { body } = await w.issue({ action: { name: 'restart' }, target: { type: 'group', id: 'web' } });
  const first = await report(w, body.id, tokens[0]!, { status: 'success', code: 0, message: 'restarted', data: { pid: 42 } });
  assert.is(first.status, 204);
  const second = await report(w, body.id, tokens[0]!, { status: 'failure' });
  assert.is(second.status, 409);
  assert.match(second.headers.get('content-type') ?? '', 'application/problem+json');
  const rows = journalRows(w.journal, ['CommandSucceeded', 'CommandFailed']);
  assert.equal(rows.map((r) => [r.type, r.actor, r.data.agent]), [['CommandSucceeded', `agent:${agents[0]}`, agents[0]]]);
  assert.equal(rows[0]!.data.result, { pid: 42 });
  const delivered = journalRows(w.journal, ['CommandDelivered']);
  assert.equal(delivered.map((r) => r.data.agent), [agents[0]], 'a result from a pending target also records its delivery');
  assert.ok(delivered[0]!.seq < journalRows(w.journal, ['CommandSucceeded'])[0]!.seq);
  const failure = await report(w, body.id, tokens[1]!, { status: 'failure', code: 3, message: 'no permission' });
  assert.is(failure.status, 204);
  const details = await call('GET', `${w.api}/commands/${body.id}`, { token: w.auditor });
  assert.is(details.status, 200);
  const states = Object.fromEntries(details.body.targets.map((t: { agent: string; state: string }) => [t.agent, t.state]));
  assert.equal(states, { [agents[0]!]: 'success', [agents[1]!]: 'failure', [agents[2]!]: 'pending' });
  const ok = details.body.targets.find((t: { agent: string }) => t.agent === agents[0]);
  assert.is(ok.code, 0);
  assert.equal(ok.data, { pid: 42 });
  assert.type(ok.finished_at, 'string');
});

results('an agent that is not a target gets 403, an unknown command 404, a bad body 400', async ({ w, agents, tokens }) => {
  const { body } = await w.issue({ action: { name: 'restart' }, target: { type: 'agent', id: agents[0] } });
  const stranger = await report(w, body.id, tokens[1]!, { status: 'success' });
  assert.is(stranger.status, 403);
  assert.match(stranger.headers.get('content-type') ?? '', 'application/problem+json');
  const unknown = await report(w, 'no-such-command', tokens[0]!, { status: 'success' });
  assert.is(unknown.status, 404);
  const bad = await report(w, body.id, tokens[0]!, { status: 'done' });
  assert.is(bad.status, 400);
  const byOperator = await report(w, body.id, w.operator, { status: 'success' });
  assert.is(byOperator.status, 403);
  assert.equal(journalRows(w.journal, ['CommandSucceeded', 'CommandFailed']), []);
});

results('an agent cannot read commands: GET /commands/{id} and the history are 403 for agents', async ({ w, agents, tokens }) => {
  const { body } = await w.issue({ action: { name: 'restart' }, target: { type: 'agent', id: agents[0] } });
  assert.is((await call('GET', `${w.api}/commands/${body.id}`, { token: tokens[0] })).status, 403);
  assert.is((await call('GET', `${w.api}/commands/history`, { token: tokens[0] })).status, 403);
  assert.is((await call('GET', `${w.api}/commands/nope`, { token: w.operator })).status, 404);
});

results.run();

const longPoll = suite<Ctx>('GET /commands as long-poll');
longPoll.before.each(world);
longPoll.after.each(async (ctx) => ctx.w.stop());

longPoll('pending commands are answered at once and count as delivered', async ({ w, agents, tokens }) => {
  await w.uploadPackage('agent-4.9.deb');
  const { body } = await w.issue({ action: { name: 'upgrade', args: { package: 'agent-4.9.deb' } }, target: { type: 'agent', id: agents[0] } });
  const r = await call('GET', `${w.api}/commands?wait=5`, { token: tokens[0] });
  assert.is(r.status, 200);
  assert.is(r.body.commands.length, 1);
  const c = r.body.commands[0];
  assert.is(c.id, body.id);
  assert.equal(c.action, { name: 'upgrade', args: { package: 'agent-4.9.deb' }, version: '1' });
  assert.equal(c.target, { type: 'agent', id: agents[0] });
  assert.type(c.issued_at, 'string');
  assert.type(c.expires_at, 'string');
  const delivered = journalRows(w.journal, ['CommandDelivered']);
  assert.equal(delivered.map((d) => [d.data.id, d.data.agent, d.actor]), [[body.id, agents[0], `agent:${agents[0]}`]]);
  const other = await call('GET', `${w.api}/commands?wait=0`, { token: tokens[1] });
  assert.equal(other.body.commands, []);
});

longPoll('a waiting request is answered when a command for that agent is issued', async ({ w, agents, tokens }) => {
  const waiting = call('GET', `${w.api}/commands?wait=20`, { token: tokens[2] });
  await new Promise((r) => setTimeout(r, 100));
  const { body } = await w.issue({ action: { name: 'refresh' }, target: { type: 'agent', id: agents[2] } });
  const r = await waiting;
  assert.is(r.status, 200);
  assert.equal(r.body.commands.map((c: { id: string }) => c.id), [body.id]);
});

longPoll('a command is answered once: later polls, with or without after=, do not offer it again', async ({ w, agents, tokens }) => {
  const a = await w.issue({ action: { name: 'refresh' }, target: { type: 'agent', id: agents[0] } });
  const first = await call('GET', `${w.api}/commands?wait=0`, { token: tokens[0] });
  assert.equal(first.body.commands.map((c: { id: string; document_id: string }) => [c.id, c.document_id]), [[a.body.id, a.body.id]]);
  const next = await call('GET', `${w.api}/commands?wait=0&after=${first.body.cursor}`, { token: tokens[0] });
  assert.equal(next.body.commands, []);
  const again = await call('GET', `${w.api}/commands?wait=0`, { token: tokens[0] });
  assert.equal(again.body.commands, [], 'a delivered command without a result is not re-offered to a long-poll');
  assert.is(journalRows(w.journal, ['CommandDelivered']).length, 1);
  const b = await w.issue({ action: { name: 'refresh' }, target: { type: 'agent', id: agents[0] } });
  const later = await call('GET', `${w.api}/commands?wait=5`, { token: tokens[0] });
  assert.equal(later.body.commands.map((c: { id: string }) => c.id), [b.body.id], 'only the new command');
  await report(w, a.body.id, tokens[0]!, { status: 'success' });
  const after = await call('GET', `${w.api}/commands?wait=0`, { token: tokens[0] });
  assert.equal(after.body.commands, []);
});

longPoll('two polls racing for one command: exactly one of them gets it', async ({ w, agents, tokens }) => {
  const polls = [0, 1, 2].map(() => call('GET', `${w.api}/commands?wait=3`, { token: tokens[1] }));
  await new Promise((r) => setTimeout(r, 200));
  const { body } = await w.issue({ action: { name: 'refresh' }, target: { type: 'agent', id: agents[1] } });
  const answers = await Promise.all(polls);
  const got = answers.flatMap((r) => r.body.commands.map((c: { id: string }) => c.id));
  assert.equal(got, [body.id]);
  assert.is(journalRows(w.journal, ['CommandDelivered']).length, 1);
});

longPoll('a delivered command without a result is re-offered on a new SSE stream (the stream guarantee stays)', async ({ w, agents, tokens }) => {
  const { body } = await w.issue({ action: { name: 'refresh' }, target: { type: 'agent', id: agents[2] } });
  const polled = await call('GET', `${w.api}/commands?wait=0`, { token: tokens[2] });
  assert.equal(polled.body.commands.map((c: { id: string }) => c.id), [body.id]);
  const ac = new AbortController();
  const res = await fetch(`${w.api}/commands`, { headers: { authorization: `Bearer ${tokens[2]}`, accept: 'text/event-stream' }, signal: ac.signal });
  const reader = res.body!.getReader();
  let text = '';
  while (!text.includes('event: command')) text += new TextDecoder().decode((await reader.read()).value);
  ac.abort();
  assert.match(text, body.id);
});

longPoll('wait outside 0..900 is 400', async ({ w, tokens }) => {
  for (const wait of ['901', '-1', 'soon']) {
    const r = await call('GET', `${w.api}/commands?wait=${wait}`, { token: tokens[0] });
    assert.is(r.status, 400, wait);
  }
});

longPoll.run();

const expiry = suite<Ctx>('expiry');
expiry.before.each(world);
expiry.after.each(async (ctx) => ctx.w.stop());

const until = <T>(f: () => Promise<T | undefined>, what: string): Promise<T> => eventually(f, isDefined, { what, ms: 20_000, everyMs: 50 });

expiry('unanswered targets expire at their deadline; answered ones keep their state; late results are 409', async ({ w, agents, tokens }) => {
  const { body } = await w.issue({ action: { name: 'restart' }, target: { type: 'group', id: 'web' }, timeout: 1 });
  assert.is((await report(w, body.id, tokens[0]!, { status: 'success' })).status, 204);
  await call('GET', `${w.api}/commands?wait=0`, { token: tokens[1] });
  const details = await until(async () => {
    const r = await call('GET', `${w.api}/commands/${body.id}`, { token: w.operator });
    return r.body.counts.expired === 2 ? r.body : undefined;
  }, 'expiry');
  const states = Object.fromEntries(details.targets.map((t: { agent: string; state: string }) => [t.agent, t.state]));
  assert.equal(states, { [agents[0]!]: 'success', [agents[1]!]: 'expired', [agents[2]!]: 'expired' });
  const expired = journalRows(w.journal, ['CommandExpired']);
  assert.equal(expired.map((e) => [e.data.agent, e.actor]).sort(), [[agents[1], 'system'], [agents[2], 'system']]);
  const late = await report(w, body.id, tokens[2]!, { status: 'success' });
  assert.is(late.status, 409);
  const poll = await call('GET', `${w.api}/commands?wait=0`, { token: tokens[1] });
  assert.equal(poll.body.commands, []);
});

expiry('a later command with an earlier deadline re-arms the single timer', async ({ w, agents }) => {
  const long = await w.issue({ action: { name: 'restart' }, target: { type: 'agent', id: agents[0] }, timeout: 3600 });
  const short = await w.issue({ action: { name: 'restart' }, target: { type: 'agent', id: agents[1] }, timeout: 1 });
  await until(async () => {
    const r = await call('GET', `${w.api}/commands/${short.body.id}`, { token: w.operator });
    return r.body.counts.expired === 1 ? true : undefined;
  }, 'expiry of the short command');
  const r = await call('GET', `${w.api}/commands/${long.body.id}`, { token: w.operator });
  assert.is(r.body.targets[0].state, 'pending');
});

expiry.run();

const audit = suite<Ctx>('audit');
audit.before.each(world);
audit.after.each(async (ctx) => ctx.w.stop());

audit('the history of one command is its complete trail, in order, with actors and times', async ({ w, agents, tokens }) => {
  const { body } = await w.issue({ action: { name: 'restart' }, target: { type: 'agent', id: agents[0] } });
  await w.issue({ action: { name: 'refresh' }, target: { type: 'agent', id: agents[0] } });
  await call('GET', `${w.api}/commands?wait=0`, { token: tokens[0] });
  await report(w, body.id, tokens[0]!, { status: 'failure', code: 2, message: 'busy' });
  const r = await call('GET', `${w.api}/commands/history?command=${body.id}`, { token: w.auditor });
  assert.is(r.status, 200);
  assert.equal(
    r.body.items.map((i: any) => [i.type, i.state, i.actor, i.agent, i.action]),
    [
      ['CommandIssued', 'pending', 'user:olivia', agents[0], 'restart'],
      ['CommandDelivered', 'delivered', `agent:${agents[0]}`, agents[0], 'restart'],
      ['CommandFailed', 'failure', `agent:${agents[0]}`, agents[0], 'restart'],
    ],
  );
  const seqs = r.body.items.map((i: { seq: number }) => i.seq);
  assert.equal([...seqs].sort((a, b) => a - b), seqs);
  const times = r.body.items.map((i: { time: string }) => Date.parse(i.time));
  assert.ok(times.every((t: number, i: number) => Number.isFinite(t) && (i === 0 || t >= times[i - 1])));
  assert.is(r.body.next_cursor, null);
  // the items are the journal's own entries
  const journal = journalRows(w.journal, ['CommandIssued', 'CommandDelivered', 'CommandFailed']).filter((e) => e.data.id === body.id);
  assert.equal(journal.map((e) => e.seq), seqs);
});

audit('history filters by agent, user, action, status and time, and pages with a cursor', async ({ w, agents, tokens }) => {
  const t0 = new Date().toISOString();
  const a = await w.issue({ action: { name: 'restart' }, target: { type: 'group', id: 'web' } });
  await w.issue({ action: { name: 'refresh' }, target: { type: 'agent', id: agents[1] } });
  await report(w, a.body.id, tokens[0]!, { status: 'success' });
  const get = (q: string) => call('GET', `${w.api}/commands/history?${q}`, { token: w.operator });
  assert.is((await get(`agent=${agents[1]}`)).body.items.length, 2);
  assert.is((await get('action=refresh')).body.items.length, 1);
  assert.is((await get('user=olivia')).body.items.length, 4);
  assert.equal((await get(`user=agent:${agents[0]}`)).body.items.map((i: any) => i.state), ['delivered', 'success']);
  assert.equal((await get('status=success')).body.items.map((i: any) => i.agent), [agents[0]]);
  assert.is((await get(`since=${encodeURIComponent(t0)}`)).body.items.length, 6);
  assert.is((await get('until=2000-01-01T00:00:00Z')).body.items.length, 0);
  const seen: string[] = [];
  let cursor: string | null = '';
  let pages = 0;
  while (cursor !== null) {
    const page: any = await get(`limit=2${cursor ? `&cursor=${cursor}` : ''}`);
    assert.is(page.status, 200);
    assert.ok(page.body.items.length <= 2);
    seen.push(...page.body.items.map((i: any) => `${i.seq}/${i.agent}/${i.state}`));
    cursor = page.body.next_cursor;
    pages += 1;
  }
  assert.is(pages, 3);
  assert.is(new Set(seen).size, 6);
  assert.is((await get('since=yesterday')).status, 400);
  assert.is((await get('status=lost')).status, 400);
  assert.is((await get('cursor=abc')).status, 400);
});

audit('auditors verify the journal; operators and agents cannot (403)', async ({ w, tokens }) => {
  const r = await call('GET', `${w.api}/journal/verify`, { token: w.auditor });
  assert.is(r.status, 200);
  assert.is(r.body.ok, true);
  assert.ok(r.body.checked > 5);
  assert.is((await call('GET', `${w.api}/journal/verify`, { token: w.operator })).status, 403);
  assert.is((await call('GET', `${w.api}/journal/verify`, { token: tokens[0] })).status, 403);
});

audit('a tampered journal entry is reported at its seq', async ({ w }) => {
  const { body } = await w.issue({ action: { name: 'restart' }, target: { type: 'group', id: 'web' } });
  const row = w.journal.db.prepare("SELECT seq FROM journal WHERE type = 'CommandIssued'").get() as { seq: number };
  w.journal.db.prepare("UPDATE journal SET actor = 'user:mallory' WHERE seq = ?").run(row.seq);
  const r = await call('GET', `${w.api}/journal/verify`, { token: w.auditor });
  assert.equal(
    { ok: r.body.ok, checked: r.body.checked, first_bad_seq: r.body.first_bad_seq, first_untrusted_seq: r.body.first_untrusted_seq },
    { ok: false, checked: row.seq - 1, first_bad_seq: row.seq, first_untrusted_seq: row.seq },
  );
  assert.type(body.id, 'string');
});

audit.run();
