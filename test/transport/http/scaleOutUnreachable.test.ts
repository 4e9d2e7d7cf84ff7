import { createServer } from 'node:net';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { newCommandId } from '../../../src/commands/issueCommand.js';
import { commandsWorld, journalRows, type CommandsWorld } from '../../commands/fixtures.js';
import { call, login } from '../../support/client.js';
import { AGENT_KEY } from '../../support/server.js';

/** A loopback URL nobody listens on: the indexer is configured but down. */
async function closedPortUrl(): Promise<string> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((r) => srv.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

const down = suite<{ w: CommandsWorld }>('a scaled-out node whose indexer is unreachable');

down.before(async (ctx) => {
  ctx.w = await commandsWorld({ COMMS_API_INDEXER_URL: await closedPortUrl() });
});
down.after(async (ctx) => {
  await ctx.w.stop();
});

down('local agents log in and register as on a lone node; a command is 503 (the cluster could not have it) and cancelled', async (ctx) => {
  const { w } = ctx;
  const r = await call('POST', `${w.api}/agents`, { token: w.operator, json: { uuid: 'local-1', key: AGENT_KEY } });
  assert.is(r.status, 201, r.text);
  const token = await login(w.api, { uuid: 'local-1', key: AGENT_KEY });
  const issued = await w.issue({ action: { name: 'restart', args: {} }, target: { type: 'agent', id: 'local-1' } });
  assert.is(issued.status, 503, issued.text);
  assert.is(issued.headers.get('content-type'), 'application/problem+json');
  assert.is(issued.headers.get('retry-after'), '5');
  const id = issued.body.command as string;
  assert.equal(journalRows(w.journal, ['CommandIssued', 'CommandCancelled']).filter((e) => e.data.id === id).map((e) => `${e.type} ${e.actor}`), ['CommandIssued user:olivia', 'CommandCancelled system']);
  const result = await call('POST', `${w.api}/commands/${id}/result`, { token, json: { status: 'success' } });
  assert.is(result.status, 409, 'the cancelled command takes no result');
});

down('what only the index could tell gets 503 problem+json with Retry-After, and journals nothing', async (ctx) => {
  const { w } = ctx;
  const head = () => journalRows(w.journal, ['AgentRegistered', 'CommandImported', 'CommandSucceeded']).length;
  const before = head();
  const unknown = await call('POST', `${w.api}/login`, { json: { uuid: 'elsewhere-1', key: AGENT_KEY } });
  assert.is(unknown.status, 503, unknown.text);
  assert.is(unknown.headers.get('content-type'), 'application/problem+json');
  assert.ok(unknown.headers.get('retry-after'));

  const token = await login(w.api, { uuid: 'local-1', key: AGENT_KEY });
  for (const id of ['older-command', newCommandId(Date.now())]) {
    const r = await call('POST', `${w.api}/commands/${id}/result`, { token, json: { status: 'success' } });
    assert.is(r.status, 503, r.text);
    assert.is(r.headers.get('content-type'), 'application/problem+json');
  }
  const foreignToken = w.agentToken('elsewhere-2');
  const refused = await call('GET', `${w.api}/configuration`, { token: foreignToken });
  assert.is(refused.status, 401, 'a token of an agent unknown here is refused while the index cannot vouch for it');
  assert.is(head(), before);
});

down('the followers report their failures in /ready and the node stays ready', async (ctx) => {
  let ready = await call('GET', `${ctx.w.api}/ready`);
  for (let i = 0; i < 100 && !(ready.body.followers?.agents?.failures >= 1); i++) {
    await new Promise((r) => setTimeout(r, 100));
    ready = await call('GET', `${ctx.w.api}/ready`);
  }
  assert.is(ready.status, 200);
  assert.ok(ready.body.followers.agents.failures >= 1, ready.text);
  assert.is(ready.body.followers.agents.settled, -1, 'nothing read');
});

down.run();
