// Tiny DOM helpers: elements are built with createElement and text nodes only (never innerHTML),
// so nothing from the API is ever parsed as markup.

/** `h('a', {href: '#/x', onclick: fn}, 'text', child)`; attributes false/null/undefined are left out. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

const SVG_NS = 'http://www.w3.org/2000/svg';
export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el, attrs) {
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.setAttribute('class', v);
    else if (k === 'value' && 'value' in el) el.value = v;
    else if (k === 'checked' || k === 'selected') el[k] = Boolean(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Replaces the children of `el`; if focus was inside, it goes back to the equivalent new control (live refreshes). */
export function fill(el, ...children) {
  const active = document.activeElement;
  const key = active && active !== document.body && el.contains(active) ? focusKey(active) : null;
  el.replaceChildren();
  append(el, children);
  if (key) {
    const again = [...el.querySelectorAll(active.tagName)].find((c) => focusKey(c) === key);
    again?.focus();
  }
  return el;
}

function focusKey(el) {
  return el.id || el.getAttribute('href') || el.dataset.key || `${el.tagName}:${el.textContent}`;
}

/** `table([{label, cell(row)}], rows)` with a caption for screen readers. */
export function table(columns, rows, { caption, empty = 'Nothing to show.', rowAttrs } = {}) {
  if (rows.length === 0) return h('p', { class: 'empty' }, empty);
  return h(
    'table',
    {},
    caption ? h('caption', {}, caption) : null,
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col' }, c.label)))),
    h('tbody', {}, rows.map((r) => h('tr', rowAttrs ? rowAttrs(r) : {}, columns.map((c) => h('td', {}, c.cell(r)))))),
  );
}

/** A definition list from `[label, value]` pairs. */
export function facts(pairs) {
  return h('dl', { class: 'facts' }, pairs.filter(Boolean).map(([k, v]) => [h('dt', {}, k), h('dd', {}, v ?? '—')]));
}

export function badge(state) {
  return h('span', { class: `badge badge-${state}`, 'data-state': state }, String(state).replace(/_/g, ' '));
}

export function field(label, control, hint) {
  return h('label', { class: 'field' }, h('span', { class: 'label' }, label), control, hint ? h('small', {}, hint) : null);
}

export function bytes(n) {
  if (n === undefined || n === null) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = Number(n);
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

export function ago(iso) {
  if (!iso) return 'never';
  const ms = Date.now() - Date.parse(iso);
  if (!Number.isFinite(ms)) return String(iso);
  const sec = Math.round(ms / 1000);
  if (sec < 0) return 'in the future';
  if (sec < 60) return `${sec} s ago`;
  if (sec < 3600) return `${Math.round(sec / 60)} min ago`;
  if (sec < 86400) return `${Math.round(sec / 3600)} h ago`;
  return `${Math.round(sec / 86400)} d ago`;
}

export function when(iso) {
  if (!iso) return 'never';
  return h('time', { datetime: iso, title: iso }, `${new Date(iso).toLocaleString()} (${ago(iso)})`);
}

/** A message region: `notice(el, 'error', 'text')`. */
export function notice(kind, ...text) {
  return h('p', { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, ...text);
}

export function problemText(reply) {
  const b = reply.body;
  if (b && typeof b === 'object') {
    const errs = Array.isArray(b.errors) ? b.errors.map((e) => `${e.field ?? e.line ?? ''}: ${e.message ?? ''}`).join('; ') : '';
    return `${reply.status} ${b.title ?? ''}${b.detail ? ` — ${b.detail}` : ''}${errs ? ` (${errs})` : ''}`;
  }
  return `${reply.status} ${typeof b === 'string' ? b.slice(0, 200) : ''}`;
}
