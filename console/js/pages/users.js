// Users and API keys (operators), shown only when the server documents these routes (GET /users).
import { call, get, hasRoute } from '../api.js';
import { badge, field, fill, h, notice, problemText, table, when } from '../dom.js';

export const title = 'Users';
const ROLES = ['operator', 'auditor', 'metrics'];

export async function render(main, ctx) {
  if (!ctx.operator) return fill(main, h('h1', {}, 'Users'), notice('error', 'Users are managed by operators.'));
  if (!(await hasRoute('GET', '/users'))) return fill(main, h('h1', {}, 'Users'), notice('info', 'This server does not list users over the API; use the command line (comms-api users add).'));
  const users = h('section', { id: 'users', 'aria-labelledby': 'h-users' });
  const keys = h('section', { id: 'api-keys', 'aria-labelledby': 'h-keys' });
  const status = h('div', { 'aria-live': 'polite', id: 'users-status' });
  fill(main, h('h1', {}, 'Users and API keys'), status, users, keys);

  async function act(method, path, done) {
    const r = await call(method, path);
    if (!ctx.alive()) return;
    fill(status, r.ok ? notice('info', done) : notice('error', problemText(r)));
    load();
  }

  async function load() {
    const [u, k] = await Promise.all([get('/users'), (await hasRoute('GET', '/api-keys')) ? get('/api-keys') : Promise.resolve(null)]);
    if (!ctx.alive()) return;
    const list = u.ok ? (u.body.users ?? u.body.items ?? []) : [];
    fill(
      users,
      h('h2', { id: 'h-users' }, 'Users'),
      u.ok
        ? table(
            [
              { label: 'Name', cell: (x) => x.name },
              { label: 'Role', cell: (x) => x.role },
              { label: 'State', cell: (x) => badge(x.disabled ? 'disabled' : 'enabled') },
              { label: 'Created', cell: (x) => (x.created_at ? when(x.created_at) : '—') },
              {
                label: 'Actions',
                cell: (x) =>
                  x.name === ctx.session.user
                    ? '(you)'
                    : [
                        h('button', { type: 'button', 'data-write': 'true', 'data-key': `toggle-${x.name}`, onclick: () => act('POST', `/users/${encodeURIComponent(x.name)}/${x.disabled ? 'enable' : 'disable'}`, `${x.name} ${x.disabled ? 'enabled' : 'disabled'}.`) }, x.disabled ? `Enable ${x.name}` : `Disable ${x.name}`),
                        ' ',
                        h('button', { type: 'button', 'data-write': 'true', 'data-key': `delete-${x.name}`, onclick: () => { if (confirm(`Delete user ${x.name}?`)) act('DELETE', `/users/${encodeURIComponent(x.name)}`, `${x.name} deleted.`); } }, `Delete ${x.name}`),
                      ],
              },
            ],
            list,
            { empty: 'No user.' },
          )
        : notice('error', problemText(u)),
    );
    if (k === null) return fill(keys, h('h2', { id: 'h-keys' }, 'API keys'), h('p', {}, 'This server has no API keys.'));
    fill(keys, h('h2', { id: 'h-keys' }, 'API keys'), keyForm(), k.ok ? table(
      [
        { label: 'Id', cell: (x) => String(x.id) },
        { label: 'Name', cell: (x) => x.name ?? '—' },
        { label: 'Role', cell: (x) => x.role },
        { label: 'Created', cell: (x) => (x.created_at ? when(x.created_at) : '—') },
        { label: 'State', cell: (x) => badge(x.revoked ? 'revoked' : 'enabled') },
        { label: 'Revoke', cell: (x) => x.revoked ? '—' : h('button', { type: 'button', 'data-write': 'true', 'data-key': `revoke-${x.id}`, onclick: () => act('DELETE', `/api-keys/${encodeURIComponent(x.id)}`, `Key ${x.id} revoked.`) }, `Revoke ${x.id}`) },
      ],
      k.body.api_keys ?? k.body.keys ?? k.body.items ?? [],
      { empty: 'No API key.' },
    ) : notice('error', problemText(k)));
  }

  function keyForm() {
    const name = h('input', { id: 'key-name', required: true, maxlength: 64 });
    const role = h('select', { id: 'key-role' }, ROLES.map((r) => h('option', { value: r }, r)));
    const shown = h('div', { id: 'key-created', 'aria-live': 'polite' });
    return h('form', {
      class: 'filters',
      onsubmit: async (e) => {
        e.preventDefault();
        const r = await call('POST', '/api-keys', { json: { name: name.value.trim(), role: role.value } });
        if (!ctx.alive()) return;
        if (r.status !== 201) return fill(shown, notice('error', problemText(r)));
        await load();
        fill(keys.querySelector('#key-created') ?? shown, notice('info', 'Key created; it is shown once, copy it now: ', h('code', { id: 'key-secret' }, r.body.key)));
      },
    }, field('Key name', name), field('Role', role), h('button', { type: 'submit', id: 'key-create', 'data-write': 'true' }, 'Create key'), shown);
  }
  load();
}
