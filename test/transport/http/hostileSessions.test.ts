import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { call, login } from '../../support/client.js';
import { AGENT_KEY } from '../../support/server.js';
import { openSse } from '../../support/sse.js';
import { startWorld, type World } from './management.support.js';

const Revocation = suite<{ w: World }>('revocation at millisecond precision');
Revocation.before(async (ctx) => {
  ctx.w = await startWorld();
});
Revocation.after((ctx) => ctx.w.server.stop());

Revocation('a token issued right after a re-registration works; one issued before the deletion never does', async ({ w }) => {
  const agentCall = (token: string) => call('GET', `${w.server.api}/configuration`, { token });
  for (let i = 0; i < 8; i++) {
    const reg = await call('POST', `${w.server.api}/agents`, { token: w.operator, json: { uuid: 'phoenix', key: AGENT_KEY } });
    assert.is(reg.status, 201, reg.text);
    const before = await login(w.server.api, { uuid: 'phoenix', key: AGENT_KEY });
    assert.is((await agentCall(before)).status, 200);
    assert.is((await call('DELETE', `${w.server.api}/agents/phoenix`, { token: w.operator })).status, 204);
    assert.is((await call('POST', `${w.server.api}/agents`, { token: w.operator, json: { uuid: 'phoenix', key: AGENT_KEY } })).status, 201);
    const after = await login(w.server.api, { uuid: 'phoenix', key: AGENT_KEY });
    assert.is((await agentCall(after)).status, 200, `try ${i}: the token issued after the re-registration`);
    assert.is((await agentCall(before)).status, 401, `try ${i}: the token issued before the deletion`);
    assert.is((await call('DELETE', `${w.server.api}/agents/phoenix`, { token: w.operator })).status, 204);
  }
});

Revocation.run();

const Streams = suite<{ w: World }>('an SSE stream ends with its token');
Streams.before(async (ctx) => {
  ctx.w = await startWorld({ 'agent-1': [], 'agent-2': [] }, { COMMS_API_TOKEN_TTL: '10' });
});
Streams.after((ctx) => ctx.w.server.stop());

Streams('when the token expires the stream gets `event: reauth` {"reason":"expired"} and is closed', async ({ w }) => {
  const token = await login(w.server.api, { uuid: 'agent-1', key: AGENT_KEY });
  const expiresAt = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).exp * 1000;
  const s = await openSse(`${w.server.api}/commands`, { token });
  assert.is(s.status, 200);
  const e = await s.next((x) => x.event === 'reauth', 20_000);
  assert.equal(JSON.parse(e.data), { reason: 'expired' });
  assert.ok(Date.now() >= expiresAt - 1000, 'not before the token expires');
  await s.ended;
  // the same token on a plain request is refused too: the agent logs in again
  assert.is((await call('GET', `${w.server.api}/configuration`, { token })).status, 401);
});

Streams('when the agent is deleted its stream gets `event: reauth` {"reason":"revoked"} and is closed', async ({ w }) => {
  const token = await login(w.server.api, { uuid: 'agent-2', key: AGENT_KEY });
  const s = await openSse(`${w.server.api}/commands`, { token });
  // tokens live 10 s here: the operator logs in again
  const operator = await login(w.server.api, { username: 'olga', password: 'operator-password' });
  assert.is((await call('DELETE', `${w.server.api}/agents/agent-2`, { token: operator })).status, 204);
  const e = await s.next((x) => x.event === 'reauth', 10_000);
  assert.equal(JSON.parse(e.data), { reason: 'revoked' });
  await s.ended;
});

Streams.run();
