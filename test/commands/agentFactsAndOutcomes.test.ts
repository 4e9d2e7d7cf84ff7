import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { decideRecordCommandResult, IN_PROGRESS, outcomeOf } from '../../src/commands/recordCommandResult.js';
import { decideReportFacts, factsFromAgentLine } from '../../src/commands/reportAgentFacts.js';
import { asAgentId, asCommandId } from '../../src/journal/ids.js';

const agentResult = (code: number, message?: string) => ({ command: { result: { code, ...(message !== undefined ? { message } : {}) } } });

const outcomes = suite("the existing agent's result codes");

outcomes('0 is success, 1 and 4 failure, 3 failure noted as a timeout, 2 no outcome; the status shape passes through', () => {
  assert.equal(outcomeOf(agentResult(0, 'done')), { status: 'success', code: 0, message: 'done' });
  assert.equal(outcomeOf(agentResult(1, 'broke')), { status: 'failure', code: 1, message: 'broke' });
  assert.equal(outcomeOf(agentResult(3, 'Command timed out')), { status: 'failure', code: 3, message: 'Command timed out', data: { timeout: true } });
  assert.equal(outcomeOf(agentResult(4)), { status: 'failure', code: 4 });
  assert.is(outcomeOf(agentResult(2, 'working')), IN_PROGRESS);
  assert.equal(outcomeOf({ status: 'failure', code: 9 }), { status: 'failure', code: 9 });
});

outcomes('in progress: a pending target becomes delivered, a delivered one stays as it is', () => {
  const cmd = { agent: asAgentId('a-1'), id: asCommandId('c-1'), result: IN_PROGRESS, now: 1 } as const;
  const pending = decideRecordCommandResult(true, { state: 'pending', expires_at: 10 }, cmd);
  assert.equal(pending.map((e) => e.type), ['CommandDelivered']);
  assert.equal(decideRecordCommandResult(true, { state: 'delivered', expires_at: 10 }, cmd), []);
});

outcomes.run();

const facts = suite('host facts from the agent line');
const HOST = { hostname: 'vm', architecture: 'x86_64', ip: ['192.0.2.2'], os: { name: 'Debian GNU/Linux', type: 'Linux', version: '12' } };

facts('are read from {"agent":{type, version, host}}; none, or bad ones, give nothing', () => {
  assert.equal(factsFromAgentLine({ agent: { id: 'x', type: 'Endpoint', version: 'v6.0.0', host: HOST, groups: [] } }), { type: 'Endpoint', version: 'v6.0.0', host: HOST });
  assert.is(factsFromAgentLine({ agent: { name: 'sim' } }), undefined);
  assert.is(factsFromAgentLine({ agent: { host: 'a string' } }), undefined);
  assert.is(factsFromAgentLine({ agent: { version: 'x'.repeat(65) } }), undefined);
  assert.is(factsFromAgentLine('not an object'), undefined);
});

facts('are journaled only when they differ from the stored ones, and only for a known agent', () => {
  const reported = { type: 'Endpoint', version: 'v6.0.0', host: HOST };
  const stored = { type: 'Endpoint', version: 'v6.0.0', host: JSON.stringify(HOST) };
  assert.equal(decideReportFacts('a-1', stored, reported), []);
  assert.equal(decideReportFacts('a-1', undefined, reported), []);
  assert.equal(decideReportFacts('a-1', { ...stored, version: 'v5' }, reported), [
    { type: 'AgentFactsReported', stream: 'a-1', actor: 'agent:a-1', data: { uuid: 'a-1', ...reported } },
  ]);
  assert.equal(decideReportFacts('a-1', { type: null, version: null, host: null }, reported).length, 1);
});

facts.run();
