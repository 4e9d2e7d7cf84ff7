// Agents: search and filters (status, group, os, version), cursor pagination, live status (every 3 s).
import { get, qs } from '../api.js';
import { ago, badge, field, fill, h, notice, problemText, table } from '../dom.js';

export const title = 'Agents';
const STATUSES = ['', 'active', 'disconnected', 'never_connected'];

export function render(main, ctx) {
  const q = ctx.params.query;
  const filters = { q: q.get('q') ?? '', status: q.get('status') ?? '', group: q.get('group') ?? '', os: q.get('os') ?? '', version: q.get('version') ?? '' };
  const pageSize = 50;
  const cursors = [undefined]; // cursor of each page shown so far
  let page = 0;

  const inputs = {
    q: h('input', { id: 'f-q', type: 'search', value: filters.q, placeholder: 'name or uuid prefix' }),
    status: h('select', { id: 'f-status' }, STATUSES.map((s) => h('option', { value: s, selected: s === filters.status }, s ? s.replace('_', ' ') : 'any'))),
    group: h('input', { id: 'f-group', value: filters.group }),
    os: h('input', { id: 'f-os', value: filters.os }),
    version: h('input', { id: 'f-version', value: filters.version }),
  };
  const form = h(
    'form',
    {
      class: 'filters',
      role: 'search',
      onsubmit: (e) => {
        e.preventDefault();
        for (const k of Object.keys(filters)) filters[k] = inputs[k].value.trim();
        cursors.length = 1;
        page = 0;
        refresh();
      },
    },
    field('Search', inputs.q),
    field('Status', inputs.status),
    field('Group', inputs.group),
    field('OS', inputs.os),
    field('Version', inputs.version),
    h('button', { type: 'submit', id: 'agents-apply' }, 'Apply'),
  );
  const counts = h('p', { class: 'counts-line', 'aria-live': 'polite' });
  const list = h('div', { id: 'agents-list' });
  const prev = h('button', { type: 'button', id: 'agents-prev', onclick: () => { if (page > 0) { page -= 1; refresh(); } } }, 'Previous page');
  const next = h('button', { type: 'button', id: 'agents-next', onclick: () => { if (cursors[page + 1]) { page += 1; refresh(); } } }, 'Next page');
  fill(main, h('h1', {}, 'Agents'), form, counts, list, h('div', { class: 'pager' }, prev, next));

  async function refresh() {
    const r = await get(`/agents${qs({ ...filters, limit: pageSize, cursor: cursors[page] })}`);
    if (!ctx.alive()) return;
    if (!r.ok) return fill(list, notice('error', problemText(r)));
    // Servers without the filters ignore them: filter the page here too (a no-op when the server did it).
    const agents = r.body.agents.filter((a) => matches(a, filters));
    cursors[page + 1] = r.body.next_cursor ?? undefined;
    prev.disabled = page === 0;
    next.disabled = !r.body.next_cursor;
    const c = r.body.counts;
    fill(counts, c ? `${c.active} active · ${c.disconnected} disconnected · ${c.never_connected} never connected` : `${agents.length} agents on this page`, ` · page ${page + 1}`);
    fill(
      list,
      table(
        [
          { label: 'Agent', cell: (a) => h('a', { href: `#/agents/${encodeURIComponent(a.uuid)}` }, a.uuid) },
          { label: 'Name', cell: (a) => a.name },
          { label: 'Status', cell: (a) => badge(a.status) },
          { label: 'Stream', cell: (a) => (a.connected ? 'connected here' : '—') },
          { label: 'Groups', cell: (a) => a.groups.join(', ') || '—' },
          { label: 'OS', cell: (a) => osOf(a) ?? '—' },
          { label: 'Version', cell: (a) => a.version ?? '—' },
          { label: 'Last seen', cell: (a) => ago(a.last_seen) },
        ],
        agents,
        { caption: 'Registered agents', empty: 'No agent matches.', rowAttrs: (a) => ({ 'data-agent': a.uuid, 'data-status': a.status, 'data-connected': String(a.connected) }) },
      ),
    );
  }
  ctx.every(3000, refresh);
}

export const osOf = (a) => (a.host?.os ? [a.host.os.name, a.host.os.version].filter(Boolean).join(' ') : undefined);

function matches(a, f) {
  if (f.status && a.status !== f.status) return false;
  if (f.group && !a.groups.includes(f.group)) return false;
  if (f.q && !a.uuid.startsWith(f.q) && !a.name.toLowerCase().includes(f.q.toLowerCase())) return false;
  if (f.os && a.host !== undefined && !(osOf(a) ?? '').toLowerCase().includes(f.os.toLowerCase()) && a.host?.os?.platform !== f.os && a.host?.os?.type !== f.os) return false;
  if (f.version && a.version !== undefined && a.version !== f.version) return false;
  return true;
}
