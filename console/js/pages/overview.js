// Overview: pipelines, journal, dead letters, agents by status, commands in flight; polled every 3 s.
import { allAgents, call, get, recentCommands } from '../api.js';
import { sampler, sparkline } from '../chart.js';
import { ago, badge, bytes, facts, fill, h, notice, problemText, table } from '../dom.js';

export const title = 'Overview';
const samples = sampler(60); // 3 minutes at one sample every 3 s
let signedHead; // from the last verify this session ran (auditors)

export function render(main, ctx) {
  const pipes = h('section', { 'aria-labelledby': 'h-pipes', id: 'pipelines' });
  const journal = h('section', { 'aria-labelledby': 'h-journal', id: 'journal-box' });
  const agentsBox = h('section', { 'aria-labelledby': 'h-agents', id: 'agents-box' });
  const cmds = h('section', { 'aria-labelledby': 'h-cmds', id: 'commands-box' });
  const updated = h('p', { class: 'updated', 'aria-live': 'polite' });
  fill(main, h('h1', {}, 'Overview'), updated, h('div', { class: 'grid' }, pipes, journal, agentsBox, cmds));

  if (ctx.session.role === 'auditor' && signedHead === undefined) {
    call('GET', '/journal/verify').then((r) => (signedHead = r.ok ? (r.body.signed_head ?? null) : null));
  }

  ctx.every(3000, async () => {
    const [stats, agents, recent] = await Promise.all([get('/journal/stats'), agentCounts(), recentCommands({ days: 1, max: 20 })]);
    if (!ctx.alive()) return;
    renderPipelines(pipes, stats);
    renderJournal(journal, stats);
    renderAgents(agentsBox, agents);
    await renderCommands(cmds, recent, ctx);
    fill(updated, `Updated ${new Date().toLocaleTimeString()} (refreshes every 3 s)`);
  });
}

function renderPipelines(box, stats) {
  if (!stats.ok) return fill(box, h('h2', { id: 'h-pipes' }, 'Pipelines'), notice('error', problemText(stats)));
  const pipelines = Object.entries(stats.body.pipelines ?? {});
  const cps = new Map((stats.body.checkpoints ?? []).map((c) => [c.name, c]));
  const rows = pipelines.map(([name, p]) => {
    const cp = cps.get(`sink:${name}`);
    const lag = samples.add(`lag:${name}`, p.lag ?? 0);
    const eps = samples.add(`eps:${name}`, p.throughput ?? 0);
    const behind = p.lag_seconds ?? (p.lag > 0 && cp ? Math.max(0, Math.round((Date.now() - Date.parse(cp.updated_at)) / 1000)) : 0);
    return { name, p, behind, lag, eps };
  });
  fill(
    box,
    h('h2', { id: 'h-pipes' }, 'Pipelines'),
    table(
      [
        { label: 'Pipeline', cell: (r) => r.name },
        { label: 'State', cell: (r) => badge(r.p.state) },
        { label: 'Lag (entries)', cell: (r) => String(r.p.lag ?? 0) },
        { label: 'Behind for', cell: (r) => (r.p.state === 'off' ? '—' : `${r.behind} s`) },
        { label: 'Events/s', cell: (r) => String(r.p.throughput ?? 0) },
        { label: 'Dead-lettered', cell: (r) => String(r.p.dead_lettered ?? 0) },
      ],
      rows,
      { caption: 'Pipelines draining the journal' },
    ),
    h(
      'div',
      { class: 'charts' },
      rows.filter((r) => r.p.state !== 'off').map((r) => [sparkline(r.lag, { label: `${r.name} lag`, unit: ' entries' }), sparkline(r.eps, { label: `${r.name} throughput`, unit: ' ev/s' })]),
    ),
  );
}

function renderJournal(box, stats) {
  if (!stats.ok) return fill(box, h('h2', { id: 'h-journal' }, 'Journal'), notice('error', problemText(stats)));
  const j = stats.body;
  const quota = j.quota_bytes;
  const size = j.size_bytes; // what the quota limits (pages in use)
  fill(
    box,
    h('h2', { id: 'h-journal' }, 'Journal'),
    quota ? h('progress', { max: quota, value: size, 'aria-label': 'journal size against quota' }) : null,
    facts([
      ['Head seq', String(j.head_seq)],
      ['Entries', String(j.entries)],
      ['Size', quota ? `${bytes(size)} of ${bytes(quota)} (${((100 * size) / quota).toFixed(1)} %)` : `${bytes(size)} (quota not reported by this server)`],
      ['Last signed head', signedHead ? `seq ${signedHead.seq} · ${signedHead.hash?.slice(0, 16)}… · ${ago(signedHead.time)}` : 'not reported'],
      ['Dead letters', h('a', { href: '#/journal', 'data-dead-letters': j.dead_letters?.open ?? 0 }, `${j.dead_letters?.open ?? 0} open (${j.dead_letters?.total ?? 0} total)`)],
    ]),
  );
}

/** The API's `counts` when it gives them (one small request); otherwise counted over the first 5000 agents. */
async function agentCounts() {
  const first = await get('/agents?limit=1');
  if (first.ok && first.body.counts) return { counts: first.body.counts, agents: null };
  return allAgents({}, 5);
}

function renderAgents(box, res) {
  const counts = res.counts ?? { active: 0, disconnected: 0, never_connected: 0 };
  if (!res.counts) for (const a of res.agents) counts[a.status] = (counts[a.status] ?? 0) + 1;
  const connected = res.agents ? res.agents.filter((a) => a.connected).length : null;
  fill(
    box,
    h('h2', { id: 'h-agents' }, 'Agents'),
    res.error ? notice('error', problemText(res.error)) : null,
    h(
      'ul',
      { class: 'counts' },
      Object.entries(counts).map(([status, n]) =>
        h('li', {}, h('a', { href: `#/agents?status=${status}`, 'data-count': status }, badge(status), ` ${n}`)),
      ),
    ),
    connected === null ? null : h('p', {}, `${connected} with a stream open on this node${res.truncated ? ' (first 5000 agents counted)' : ''}.`),
  );
}

async function renderCommands(box, recent, ctx) {
  const details = await Promise.all(recent.commands.slice(0, 10).map((c) => get(`/commands/${encodeURIComponent(c.command)}`)));
  if (!ctx.alive()) return;
  const open = details.filter((d) => d.ok && (d.body.counts.pending ?? 0) + (d.body.counts.delivered ?? 0) > 0).map((d) => d.body);
  fill(
    box,
    h('h2', { id: 'h-cmds' }, 'Commands in flight'),
    recent.error ? notice('error', problemText(recent.error)) : null,
    table(
      [
        { label: 'Command', cell: (c) => h('a', { href: `#/commands/${encodeURIComponent(c.id)}` }, c.action.name) },
        { label: 'Issued', cell: (c) => ago(c.issued_at) },
        { label: 'Open', cell: (c) => String((c.counts.pending ?? 0) + (c.counts.delivered ?? 0)) },
        { label: 'Done', cell: (c) => String((c.counts.success ?? 0) + (c.counts.failure ?? 0) + (c.counts.expired ?? 0)) },
      ],
      open,
      { caption: 'Commands with targets not finished (issued in the last 24 h)', empty: 'No command in flight.' },
    ),
  );
}
