// One command: every target's state, refreshed every 2 s; cancel when the server offers it.
import { call, get, hasRoute } from '../api.js';
import { ago, badge, facts, fill, h, notice, problemText, table } from '../dom.js';

export const title = 'Command';
const OPEN = ['pending', 'delivered'];

export function render(main, ctx) {
  const id = ctx.params.id;
  const head = h('section', { id: 'command-facts' });
  const actions = h('div', { class: 'actions', id: 'command-actions' });
  const targets = h('section', { id: 'command-targets', 'aria-live': 'polite' });
  fill(main, h('p', {}, h('a', { href: '#/commands' }, '← Commands')), h('h1', {}, `Command ${id}`), head, actions, targets);
  let canCancel = false;
  if (ctx.operator) hasRoute('POST', '/commands/{id}/cancel').then((yes) => (canCancel = yes));

  ctx.every(2000, async () => {
    const r = await get(`/commands/${encodeURIComponent(id)}`);
    if (!ctx.alive()) return;
    if (!r.ok) return fill(head, notice('error', r.status === 404 ? `No command ${id}.` : problemText(r)));
    const c = r.body;
    fill(
      head,
      facts([
        ['Action', `${c.action.name} (version ${c.action.version})`],
        ['Arguments', h('code', {}, JSON.stringify(c.action.args ?? {}))],
        ['Target', `${c.target.type}${c.target.id ? ` ${c.target.id}` : ''}`],
        ['Issued', `${new Date(c.issued_at).toLocaleString()} (${ago(c.issued_at)}) by ${c.issued_by}`],
        ['Expires', new Date(c.expires_at).toLocaleString()],
        ['States', h('span', { id: 'command-counts' }, Object.entries(c.counts).filter(([, n]) => n > 0).map(([s, n]) => [badge(s), ` ${n} `]))],
      ]),
    );
    const open = c.targets.some((t) => OPEN.includes(t.state));
    if (canCancel && open && !actions.querySelector('#cancel-command')) {
      fill(actions, h('button', { type: 'button', id: 'cancel-command', 'data-write': 'true', onclick: () => cancel(actions, id) }, 'Cancel the open targets'));
    } else if (!open && actions.querySelector('#cancel-command')) fill(actions);
    fill(
      targets,
      h('h2', {}, `Targets (${c.targets.length})`),
      table(
        [
          { label: 'Agent', cell: (t) => h('a', { href: `#/agents/${encodeURIComponent(t.agent)}` }, t.agent) },
          { label: 'State', cell: (t) => badge(t.state) },
          { label: 'Delivered', cell: (t) => (t.delivered_at ? ago(t.delivered_at) : '—') },
          { label: 'Finished', cell: (t) => (t.finished_at ? ago(t.finished_at) : '—') },
          { label: 'Code', cell: (t) => (t.code ?? '—').toString() },
          { label: 'Message', cell: (t) => t.message ?? '—' },
        ],
        c.targets,
        { rowAttrs: (t) => ({ 'data-target': t.agent, 'data-state': t.state }) },
      ),
    );
  });
}

async function cancel(box, id) {
  const button = box.querySelector('#cancel-command');
  if (button) button.disabled = true;
  const r = await call('POST', `/commands/${encodeURIComponent(id)}/cancel`);
  if (r.ok) return fill(box, notice('info', 'Cancelled: the targets not finished are now cancelled.'));
  // A server without the route (404/405): say so and offer nothing.
  fill(box, notice('error', r.status === 404 || r.status === 405 ? 'This server cannot cancel commands.' : `Not cancelled: ${problemText(r)}`));
}
