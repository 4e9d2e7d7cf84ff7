// A group's configuration: JSON editor with validation; saving sends If-Match, and a 412 shows the
// current version and the diff against the edit instead of overwriting.
import { call, get } from '../api.js';
import { fill, h, notice, problemText } from '../dom.js';
import { diffView } from '../diff.js';

export const title = 'Group configuration';
const MAX_DEPTH = 32;
const MAX_BYTES = 1 << 20;

export async function render(main, ctx) {
  const name = ctx.params.name;
  const path = `/groups/${encodeURIComponent(name)}/configuration`;
  if (!ctx.operator) return fill(main, h('h1', {}, `Group ${name}`), notice('error', 'Group configurations are for operators.'));
  const r = await get(path);
  if (!ctx.alive()) return;
  if (!r.ok) return fill(main, h('h1', {}, `Group ${name}`), notice('error', problemText(r)));
  let etag = r.headers.get('etag');
  let base = pretty(r.body);

  const editor = h('textarea', { id: 'config-editor', rows: 18, spellcheck: 'false', 'aria-describedby': 'config-validity' }, base);
  const validity = h('p', { id: 'config-validity', 'aria-live': 'polite' });
  const tag = h('code', { id: 'config-etag' }, etag);
  const save = h('button', { type: 'submit', id: 'config-save', 'data-write': 'true' }, 'Save');
  const format = h('button', { type: 'button', id: 'config-format', onclick: () => { const v = check(editor.value); if (v.ok) editor.value = pretty(v.value); validate(); } }, 'Format');
  const status = h('div', { id: 'config-status', 'aria-live': 'polite' });
  const conflict = h('div', { id: 'config-conflict' });

  function validate() {
    const v = check(editor.value);
    editor.setAttribute('aria-invalid', v.ok ? 'false' : 'true');
    validity.className = v.ok ? 'valid' : 'invalid';
    fill(validity, v.ok ? 'Valid JSON object.' : `Invalid: ${v.error}`);
    save.disabled = !v.ok;
    return v;
  }
  editor.addEventListener('input', validate);

  async function put(value, ifMatch) {
    fill(status, notice('info', 'Saving…'));
    const res = await call('PUT', path, { json: value, headers: { 'if-match': ifMatch } });
    if (!ctx.alive()) return;
    if (res.status === 200 || res.status === 201) {
      etag = res.headers.get('etag');
      base = pretty(res.body);
      fill(tag, etag);
      fill(conflict);
      return fill(status, notice('info', 'Saved.'));
    }
    if (res.status === 412) return showConflict(value);
    fill(status, notice('error', `Not saved: ${problemText(res)}`));
  }

  async function showConflict(mine) {
    const cur = await get(path);
    if (!ctx.alive()) return;
    const current = pretty(cur.body);
    const currentTag = cur.headers.get('etag');
    fill(status, notice('error', 'Not saved: someone changed this configuration since you opened it. Nothing was overwritten.'));
    fill(
      conflict,
      h('section', { class: 'conflict', 'aria-labelledby': 'h-conflict' },
        h('h2', { id: 'h-conflict' }, 'Conflict'),
        h('p', {}, 'Current version ', h('code', { id: 'conflict-etag' }, currentTag), ':'),
        h('pre', { id: 'conflict-current' }, current),
        h('h3', {}, 'Differences (- current, + your edit)'),
        diffView(current, pretty(mine)),
        h('button', { type: 'button', id: 'conflict-take-current', onclick: () => { editor.value = current; etag = currentTag; base = current; fill(tag, etag); fill(conflict); fill(status); validate(); editor.focus(); } }, 'Discard my edit, load the current version'), ' ',
        h('button', { type: 'button', id: 'conflict-overwrite', 'data-write': 'true', onclick: () => put(mine, currentTag) }, 'Save my edit over the current version')),
    );
  }

  fill(
    main,
    h('p', {}, h('a', { href: '#/groups' }, '← Groups')),
    h('h1', {}, `Group ${name}`),
    h('p', {}, 'Version (ETag) you are editing: ', tag),
    h('form', { id: 'config-form', onsubmit: (e) => { e.preventDefault(); const v = validate(); if (v.ok) put(v.value, etag); } },
      h('label', { for: 'config-editor' }, 'Configuration (a JSON object; agents in the group get it merged in their group order)'),
      editor, validity, save, ' ', format),
    status,
    conflict,
  );
  validate();
}

const pretty = (v) => JSON.stringify(v, null, 2);

export function check(text) {
  if (new TextEncoder().encode(text).length > MAX_BYTES) return { ok: false, error: 'larger than 1 MiB' };
  let value;
  try {
    value = JSON.parse(text);
  } catch (e) {
    return { ok: false, error: e.message };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { ok: false, error: 'the configuration must be a JSON object' };
  if (depth(value) > MAX_DEPTH) return { ok: false, error: `nested deeper than ${MAX_DEPTH} levels` };
  return { ok: true, value };
}

function depth(v) {
  if (v === null || typeof v !== 'object') return 0;
  let d = 0;
  for (const x of Object.values(v)) d = Math.max(d, depth(x));
  return d + 1;
}
