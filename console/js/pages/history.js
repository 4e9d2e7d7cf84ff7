// History: the audit trail with the API's filters, cursor pagination, and export (NDJSON or CSV).
import { get, hasRoute, qs } from '../api.js';
import { badge, field, fill, h, notice, problemText, table } from '../dom.js';

export const title = 'History';
const STATES = ['', 'pending', 'delivered', 'success', 'failure', 'expired'];
const COLUMNS = ['seq', 'time', 'command', 'agent', 'action', 'type', 'state', 'actor'];
const EXPORT_MAX = 100_000;

export function render(main, ctx) {
  const q = ctx.params.query;
  const inputs = {
    agent: h('input', { id: 'h-agent', value: q.get('agent') ?? '' }),
    user: h('input', { id: 'h-user', value: q.get('user') ?? '' }),
    action: h('input', { id: 'h-action', value: q.get('action') ?? '' }),
    command: h('input', { id: 'h-command', value: q.get('command') ?? '' }),
    status: h('select', { id: 'h-status' }, STATES.map((s) => h('option', { value: s }, s || 'any'))),
    since: h('input', { id: 'h-since', type: 'datetime-local' }),
    until: h('input', { id: 'h-until', type: 'datetime-local' }),
  };
  // `cancelled` exists only on servers that can cancel commands
  hasRoute('POST', '/commands/{id}/cancel').then((yes) => yes && inputs.status.append(h('option', { value: 'cancelled' }, 'cancelled')));
  const limit = 100;
  const cursors = [undefined];
  let page = 0;
  const filters = () => {
    const f = {};
    for (const [k, el] of Object.entries(inputs)) {
      const v = el.value.trim();
      if (!v) continue;
      f[k] = k === 'since' || k === 'until' ? new Date(v).toISOString() : v;
    }
    return f;
  };
  const list = h('div', { id: 'history-list' });
  const status = h('div', { 'aria-live': 'polite' });
  const prev = h('button', { type: 'button', id: 'history-prev', onclick: () => { if (page > 0) { page -= 1; load(); } } }, 'Previous page');
  const next = h('button', { type: 'button', id: 'history-next', onclick: () => { if (cursors[page + 1]) { page += 1; load(); } } }, 'Next page');
  fill(
    main,
    h('h1', {}, 'History'),
    h(
      'form',
      { class: 'filters', role: 'search', onsubmit: (e) => { e.preventDefault(); cursors.length = 1; page = 0; load(); } },
      Object.entries(inputs).map(([k, el]) => field(k, el)),
      h('button', { type: 'submit', id: 'history-apply' }, 'Apply'),
    ),
    h('div', { class: 'actions' },
      h('button', { type: 'button', id: 'export-ndjson', onclick: () => exportAll('ndjson') }, 'Export NDJSON'), ' ',
      h('button', { type: 'button', id: 'export-csv', onclick: () => exportAll('csv') }, 'Export CSV')),
    status,
    list,
    h('div', { class: 'pager' }, prev, next),
  );

  async function load() {
    const r = await get(`/commands/history${qs({ ...filters(), limit, cursor: cursors[page] })}`);
    if (!ctx.alive()) return;
    if (!r.ok) return fill(list, notice('error', problemText(r)));
    cursors[page + 1] = r.body.next_cursor ?? undefined;
    prev.disabled = page === 0;
    next.disabled = !r.body.next_cursor;
    fill(
      list,
      table(
        [
          { label: 'Seq', cell: (i) => String(i.seq) },
          { label: 'Time', cell: (i) => new Date(i.time).toLocaleString() },
          { label: 'Command', cell: (i) => h('a', { href: `#/commands/${encodeURIComponent(i.command)}` }, i.command) },
          { label: 'Agent', cell: (i) => i.agent ?? '—' },
          { label: 'Action', cell: (i) => i.action },
          { label: 'Type', cell: (i) => i.type },
          { label: 'State', cell: (i) => badge(i.state) },
          { label: 'Actor', cell: (i) => i.actor },
        ],
        r.body.items,
        { caption: `Page ${page + 1}`, empty: 'No entry matches.' },
      ),
    );
  }

  async function exportAll(format) {
    const items = [];
    let cursor;
    fill(status, notice('info', 'Exporting…'));
    do {
      const r = await get(`/commands/history${qs({ ...filters(), limit: 1000, cursor })}`);
      if (!r.ok) return fill(status, notice('error', problemText(r)));
      items.push(...r.body.items);
      cursor = r.body.next_cursor;
    } while (cursor && items.length < EXPORT_MAX);
    const text = format === 'ndjson' ? items.map((i) => JSON.stringify(i)).join('\n') + (items.length ? '\n' : '') : toCsv(items);
    const blob = new Blob([text], { type: format === 'ndjson' ? 'application/x-ndjson' : 'text/csv' });
    const a = h('a', { href: URL.createObjectURL(blob), download: `command-history.${format}` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
    fill(status, notice('info', `Exported ${items.length} entries${cursor ? ` (stopped at ${EXPORT_MAX})` : ''}.`));
  }
  load();
}

/** RFC 4180: quote every field that needs it, double the quotes. */
export function toCsv(items) {
  const cell = (v) => {
    const s = v === null || v === undefined ? '' : String(v);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [COLUMNS.join(','), ...items.map((i) => COLUMNS.map((c) => cell(i[c])).join(','))].join('\r\n') + '\r\n';
}
