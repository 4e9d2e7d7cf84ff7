// Groups: the groups the agents are in (and any name typed), each opening its configuration editor.
import { allAgents, get, hasRoute } from '../api.js';
import { field, fill, h, notice, problemText, table } from '../dom.js';

export const title = 'Groups';
const GROUP = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export async function render(main, ctx) {
  if (!ctx.operator) return fill(main, h('h1', {}, 'Groups'), notice('error', 'Group configurations are for operators.'));
  const name = h('input', { id: 'group-name', required: true, pattern: '[A-Za-z0-9][A-Za-z0-9._\\-]{0,63}' });
  const list = h('div', { id: 'groups-list' }, 'Loading…');
  fill(
    main,
    h('h1', {}, 'Groups'),
    h('form', { class: 'filters', onsubmit: (e) => { e.preventDefault(); if (GROUP.test(name.value)) ctx.go(`#/groups/${encodeURIComponent(name.value)}`); } },
      field('Open a group by name', name, 'letters, digits, . _ - (up to 64)'),
      h('button', { type: 'submit', id: 'group-open' }, 'Open')),
    list,
  );
  const groups = await listGroups();
  if (!ctx.alive()) return;
  if (groups.error) return fill(list, notice('error', problemText(groups.error)));
  fill(
    list,
    table(
      [
        { label: 'Group', cell: (g) => h('a', { href: `#/groups/${encodeURIComponent(g.group)}` }, g.group) },
        { label: 'Agents', cell: (g) => String(g.agents) },
        { label: 'Configured', cell: (g) => (g.configured === undefined ? '—' : g.configured ? 'yes' : 'no') },
        { label: 'ETag', cell: (g) => (g.etag ? h('code', {}, g.etag) : '—') },
      ],
      groups.items,
      { caption: 'Groups', empty: 'No group yet.' },
    ),
  );
}

/** `GET /groups` where the server has it; otherwise the groups the agents are in. */
async function listGroups() {
  if (await hasRoute('GET', '/groups')) {
    const r = await get('/groups');
    if (r.ok && Array.isArray(r.body.groups)) return { items: r.body.groups };
  }
  const res = await allAgents({}, 10);
  if (res.error) return { error: res.error };
  const members = new Map();
  for (const a of res.agents) for (const g of a.groups) members.set(g, (members.get(g) ?? 0) + 1);
  return { items: [...members.entries()].sort((a, b) => a[0].localeCompare(b[0])).map(([group, agents]) => ({ group, agents })) };
}
