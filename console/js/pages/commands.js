// Commands: the most recent ones (last 7 days) with their per-state counts; a link to issue one.
import { get, recentCommands } from '../api.js';
import { ago, badge, fill, h, notice, problemText, table } from '../dom.js';

export const title = 'Commands';

export function render(main, ctx) {
  const list = h('div', { id: 'commands-list' });
  fill(
    main,
    h('h1', {}, 'Commands'),
    ctx.operator ? h('p', {}, h('a', { href: '#/commands/new', class: 'button', id: 'new-command', 'data-write': 'true' }, 'Issue a command')) : null,
    list,
  );
  ctx.every(5000, async () => {
    const recent = await recentCommands({ days: 7, max: 25 });
    if (recent.error) return fill(list, notice('error', problemText(recent.error)));
    const details = await Promise.all(recent.commands.map((c) => get(`/commands/${encodeURIComponent(c.command)}`)));
    if (!ctx.alive()) return;
    const rows = details.filter((d) => d.ok).map((d) => d.body);
    fill(
      list,
      table(
        [
          { label: 'Id', cell: (c) => h('a', { href: `#/commands/${encodeURIComponent(c.id)}` }, c.id) },
          { label: 'Action', cell: (c) => c.action.name },
          { label: 'Target', cell: (c) => `${c.target.type}${c.target.id ? ` ${c.target.id}` : ''}` },
          { label: 'Issued', cell: (c) => `${ago(c.issued_at)} by ${c.issued_by}` },
          { label: 'States', cell: (c) => Object.entries(c.counts).filter(([, n]) => n > 0).map(([s, n]) => [badge(s), ` ${n} `]) },
        ],
        rows,
        { caption: 'Commands issued in the last 7 days, newest first', empty: 'No command issued in the last 7 days.' },
      ),
    );
  });
}
