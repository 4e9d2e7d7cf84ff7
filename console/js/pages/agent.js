// One agent, answering "why is this agent stale?" in one view; refreshed every 3 s.
import { get, qs } from '../api.js';
import { ago, badge, facts, fill, h, notice, problemText, table, when } from '../dom.js';
import { osOf } from './agents.js';

export const title = 'Agent';
const FIVE_MIN = 5 * 60_000;

export function render(main, ctx) {
  const uuid = ctx.params.uuid;
  const diagnosis = h('section', { id: 'diagnosis', 'aria-labelledby': 'h-why', 'aria-live': 'polite' });
  const details = h('section', { id: 'agent-facts', 'aria-labelledby': 'h-facts' });
  const cmds = h('section', { id: 'agent-commands', 'aria-labelledby': 'h-acmds' });
  const dead = h('section', { id: 'agent-dead-letters', 'aria-labelledby': 'h-adl' });
  const config = h('section', { id: 'agent-config', 'aria-labelledby': 'h-acfg' });
  fill(main, h('p', {}, h('a', { href: '#/agents' }, '← All agents')), h('h1', {}, `Agent ${uuid}`), diagnosis, h('div', { class: 'grid' }, details, cmds, dead, config));

  let configLoaded = false;
  ctx.every(3000, async () => {
    const enc = encodeURIComponent(uuid);
    const since = new Date(Date.now() - 7 * 86400_000).toISOString();
    const [a, stats, hist, dls] = await Promise.all([
      get(`/agents/${enc}`),
      get('/journal/stats'),
      get(`/commands/history${qs({ agent: uuid, since, limit: 1000 })}`),
      ctx.operator ? get('/dead-letters?all=true&limit=1000') : Promise.resolve(null),
    ]);
    if (!ctx.alive()) return;
    if (!a.ok) return fill(diagnosis, notice('error', a.status === 404 ? `No agent ${uuid} on this node.` : problemText(a)));
    const agent = a.body;
    const mine = dls?.ok ? dls.body.dead_letters.filter((d) => JSON.stringify(d.item ?? '').includes(JSON.stringify(uuid))) : [];
    const last = lastCommands(hist.ok ? hist.body.items : []);
    renderDiagnosis(diagnosis, agent, stats.ok ? stats.body : null, mine, last);
    renderFacts(details, agent, stats.ok ? stats.body : null);
    renderCommands(cmds, last, hist);
    renderDeadLetters(dead, mine, dls);
    if (!configLoaded) {
      configLoaded = true;
      renderConfig(config, agent, ctx);
    }
  });
}

/** The latest state of each command the agent was a target of, newest first. */
function lastCommands(items) {
  const byCommand = new Map();
  for (const it of items) byCommand.set(it.command, it);
  return [...byCommand.values()].reverse().slice(0, 10);
}

function reasons(agent, stats, deadLetters, last) {
  const out = [];
  const seen = agent.last_seen ? Date.now() - Date.parse(agent.last_seen) : Infinity;
  if (agent.status === 'never_connected') out.push('It has never logged in or sent anything since it was registered: check its enrollment key and the address it is given.');
  else if (agent.connected) out.push('Its command stream is open on this node right now.');
  else if (seen > FIVE_MIN) out.push(`Nothing from it for ${ago(agent.last_seen).replace(' ago', '')}: no open stream on this node and no request in the last 5 minutes (it may be down, unreachable, or talking to another node).`);
  else out.push('It made a request in the last 5 minutes but has no stream open on this node (long-polling, or its stream is on another node).');
  if (agent.last_event_seq === null && agent.status !== 'never_connected') out.push('It has never sent an event batch.');
  for (const [name, p] of Object.entries(stats?.pipelines ?? {})) {
    if (p.state === 'down' || p.state === 'retrying') out.push(`The ${name} pipeline is ${p.state} (lag ${p.lag}): its events are journaled but not delivered yet.`);
  }
  if (deadLetters.some((d) => !d.resolved)) out.push(`${deadLetters.filter((d) => !d.resolved).length} of its batches were refused by a sink (dead letters below).`);
  const open = last.filter((c) => c.state === 'pending' || c.state === 'delivered');
  if (open.length) out.push(`${open.length} command(s) still open for it.`);
  return out;
}

function renderDiagnosis(box, agent, stats, deadLetters, last) {
  fill(
    box,
    h('h2', { id: 'h-why' }, 'Why is it in this state? ', badge(agent.status)),
    h('ul', { class: 'reasons' }, reasons(agent, stats, deadLetters, last).map((r) => h('li', {}, r))),
  );
}

function renderFacts(box, agent, stats) {
  const behind = agent.last_event_seq !== null && stats ? stats.head_seq - agent.last_event_seq : null;
  fill(
    box,
    h('h2', { id: 'h-facts' }, 'Facts'),
    facts([
      ['Name', agent.name],
      ['Status', badge(agent.status)],
      ['Last seen', when(agent.last_seen)],
      ['Connected node', agent.connected ? `this node (${location.host})` : agent.node ?? 'no stream open on this node'],
      ['Last events received', agent.last_event_seq === null ? 'never' : `journal seq ${agent.last_event_seq}${behind !== null ? ` (${behind} entries before the head)` : ''}`],
      ['Groups', agent.groups.join(', ') || '—'],
      ['Registered', when(agent.registered_at)],
      agent.version !== undefined ? ['Version', agent.version ?? '—'] : null,
      agent.host !== undefined ? ['Host', agent.host ? `${agent.host.hostname ?? ''} · ${osOf(agent) ?? ''} · ${(agent.host.ip ?? []).join(', ')}` : 'unknown'] : null,
    ]),
  );
}

function renderCommands(box, last, hist) {
  fill(
    box,
    h('h2', { id: 'h-acmds' }, 'Last commands (7 days)'),
    hist.ok
      ? table(
          [
            { label: 'Command', cell: (c) => h('a', { href: `#/commands/${encodeURIComponent(c.command)}` }, c.action) },
            { label: 'State', cell: (c) => badge(c.state) },
            { label: 'When', cell: (c) => ago(c.time) },
            { label: 'By', cell: (c) => c.actor },
          ],
          last,
          { empty: 'No command for this agent in the last 7 days.' },
        )
      : notice('error', problemText(hist)),
  );
}

function renderDeadLetters(box, mine, dls) {
  fill(
    box,
    h('h2', { id: 'h-adl' }, 'Dead letters from it'),
    dls === null
      ? h('p', {}, 'Dead letters are visible to operators.')
      : !dls.ok
        ? notice('error', problemText(dls))
        : table(
            [
              { label: 'Id', cell: (d) => String(d.id) },
              { label: 'Sink', cell: (d) => d.sink },
              { label: 'Seq', cell: (d) => String(d.seq) },
              { label: 'Reason', cell: (d) => d.reason },
              { label: 'State', cell: (d) => (d.resolved ? 'resolved' : 'open') },
            ],
            mine,
            { empty: 'None.' },
          ),
  );
}

async function renderConfig(box, agent, ctx) {
  const head = [h('h2', { id: 'h-acfg' }, 'Configuration')];
  if (agent.config_etag) head.push(h('p', {}, 'Last sent ETag: ', h('code', {}, agent.config_etag)));
  else head.push(h('p', {}, 'The ETag last sent to the agent is not reported by this server; the ETags of its groups now:'));
  if (!ctx.operator) return fill(box, head, h('p', {}, 'Group configurations are visible to operators.'));
  const rows = await Promise.all(agent.groups.map(async (g) => ({ g, r: await get(`/groups/${encodeURIComponent(g)}/configuration`) })));
  if (!ctx.alive()) return;
  fill(
    box,
    head,
    table(
      [
        { label: 'Group', cell: (x) => h('a', { href: `#/groups/${encodeURIComponent(x.g)}` }, x.g) },
        { label: 'ETag', cell: (x) => h('code', {}, x.r.headers.get('etag') ?? problemText(x.r)) },
      ],
      rows,
      { empty: 'It is in no group (empty configuration).' },
    ),
  );
}
