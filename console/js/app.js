// The console shell: login, navigation, hash routing and the life of the current page (its timers).
import { currentSession, hasRoute, login, logout, onSessionExpired } from './api.js';
import { fill, h, notice, problemText } from './dom.js';
import * as overview from './pages/overview.js';
import * as agents from './pages/agents.js';
import * as agent from './pages/agent.js';
import * as commands from './pages/commands.js';
import * as newCommand from './pages/newCommand.js';
import * as command from './pages/command.js';
import * as history from './pages/history.js';
import * as groups from './pages/groups.js';
import * as group from './pages/group.js';
import * as packages from './pages/packages.js';
import * as journal from './pages/journal.js';
import * as users from './pages/users.js';

const NAV = [
  { href: '#/overview', label: 'Overview' },
  { href: '#/agents', label: 'Agents' },
  { href: '#/commands', label: 'Commands' },
  { href: '#/history', label: 'History' },
  { href: '#/groups', label: 'Groups', operatorOnly: true },
  { href: '#/packages', label: 'Packages' },
  { href: '#/journal', label: 'Journal' },
  { href: '#/users', label: 'Users', operatorOnly: true, route: ['GET', '/users'] },
];

/** `[pattern, page]`, first match wins; `:name` segments become params. */
const ROUTES = [
  ['/overview', overview],
  ['/agents', agents],
  ['/agents/:uuid', agent],
  ['/commands', commands],
  ['/commands/new', newCommand],
  ['/commands/:id', command],
  ['/history', history],
  ['/groups', groups],
  ['/groups/:name', group],
  ['/packages', packages],
  ['/journal', journal],
  ['/users', users],
];

const root = document.getElementById('app');
let current = null;
/** Nav entries whose route this server documents (looked up once per login). */
let offered = new Set();

async function lookUpOptionalPages() {
  offered = new Set();
  for (const n of NAV) if (n.route && (await hasRoute(...n.route))) offered.add(n.href);
  const ul = root.querySelector('nav ul');
  if (offered.size > 0 && ul && currentSession()) {
    fill(ul, navItems(currentSession()));
    markCurrent();
  }
}

function navItems(s) {
  return NAV.filter((n) => (!n.operatorOnly || s.role === 'operator') && (!n.route || offered.has(n.href))).map((n) =>
    h('li', {}, h('a', { href: n.href, 'data-nav': n.label.toLowerCase() }, n.label)),
  );
}

function markCurrent() {
  const path = (location.hash.replace(/^#/, '') || '/overview').split('?')[0];
  for (const a of root.querySelectorAll('nav a')) {
    const href = a.getAttribute('href').slice(1);
    if (path === href || path.startsWith(`${href}/`)) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function match(path) {
  const parts = path.split('/').filter(Boolean);
  for (const [pattern, page] of ROUTES) {
    const want = pattern.split('/').filter(Boolean);
    if (want.length !== parts.length) continue;
    const params = {};
    if (want.every((w, i) => (w.startsWith(':') ? ((params[w.slice(1)] = decodeURIComponent(parts[i])), true) : w === parts[i]))) {
      return { page, params };
    }
  }
  return null;
}

/** What a page gets: params, the session, timers that stop when the page is left, navigation. */
function pageContext(params) {
  const timers = [];
  let alive = true;
  return {
    params,
    session: currentSession(),
    operator: currentSession()?.role === 'operator',
    alive: () => alive,
    /** Runs `fn` now and then every `ms` (never two at once) while the page is shown. */
    every(ms, fn) {
      let running = false;
      const tick = async () => {
        if (!alive || running) return;
        running = true;
        try {
          await fn();
        } catch (err) {
          console.error(err);
        } finally {
          running = false;
        }
      };
      tick();
      timers.push(setInterval(tick, ms));
    },
    go: (hash) => (location.hash = hash),
    stop() {
      alive = false;
      for (const t of timers) clearInterval(t);
    },
  };
}

function shell(main) {
  const s = currentSession();
  const nav = h(
    'nav',
    { 'aria-label': 'Main' },
    h('ul', {}, navItems(s)),
  );
  const header = h(
    'header',
    {},
    h('span', { class: 'brand' }, 'comms-api console'),
    h('span', { class: 'who', 'data-role': s.role }, `${s.user} (${s.role})`),
    h('button', { type: 'button', id: 'logout', onclick: () => { logout(); location.hash = '#/overview'; render(); } }, 'Log out'),
  );
  return [header, nav, main];
}

function render() {
  current?.stop();
  current = null;
  if (!currentSession()) return renderLogin();
  const [path, query] = (location.hash.replace(/^#/, '') || '/overview').split('?');
  const found = match(path);
  if (found) found.params.query = new URLSearchParams(query ?? '');
  const main = h('main', { id: 'main' });
  fill(root, shell(main));
  markCurrent();
  if (!found) {
    fill(main, h('h1', {}, 'Not found'), h('p', {}, h('a', { href: '#/overview' }, 'Back to the overview')));
    return;
  }
  current = pageContext(found.params);
  document.title = `${found.page.title ?? 'comms-api'} · comms-api console`;
  found.page.render(main, current);
}

function renderLogin(message) {
  const user = h('input', { id: 'login-user', name: 'username', autocomplete: 'username', required: true });
  const pass = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const status = h('div', { class: 'login-status' }, message ? notice('error', message) : null);
  const form = h(
    'form',
    {
      class: 'login',
      onsubmit: async (e) => {
        e.preventDefault();
        fill(status, notice('info', 'Logging in…'));
        const r = await login(user.value, pass.value);
        if (r.status !== 200) return fill(status, notice('error', `Login failed: ${problemText(r)}`));
        render();
        lookUpOptionalPages();
      },
    },
    h('h1', {}, 'comms-api console'),
    h('label', { for: 'login-user' }, 'User name'),
    user,
    h('label', { for: 'login-password' }, 'Password'),
    pass,
    h('button', { type: 'submit', id: 'login-submit' }, 'Log in'),
    status,
  );
  fill(root, h('main', { class: 'login-page' }, form));
  user.focus();
}

onSessionExpired(() => {
  current?.stop();
  current = null;
  renderLogin('Your session has ended (token expired or revoked); log in again.');
});
window.addEventListener('hashchange', render);
render();
