// Packages: the list (size, sha256) and, for operators, an upload with a progress bar (XMLHttpRequest
// reports upload progress; fetch does not).
import { API, currentSession, get } from '../api.js';
import { bytes, field, fill, h, notice, problemText, table } from '../dom.js';

export const title = 'Packages';
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function render(main, ctx) {
  const list = h('div', { id: 'packages-list' });
  const upload = ctx.operator ? uploadForm(() => load()) : null;
  fill(main, h('h1', {}, 'Packages'), upload, list);

  async function load() {
    const r = await get('/packages');
    if (!ctx.alive()) return;
    if (!r.ok) return fill(list, notice('error', problemText(r)));
    fill(
      list,
      table(
        [
          { label: 'Name', cell: (p) => p.name },
          { label: 'Size', cell: (p) => h('span', { title: `${p.size} bytes` }, bytes(p.size)) },
          { label: 'SHA-256', cell: (p) => h('code', { class: 'hash' }, p.sha256) },
          { label: 'Uploaded', cell: (p) => (p.uploaded_at ? new Date(p.uploaded_at).toLocaleString() : '—') },
        ],
        r.body.packages,
        { caption: 'Packages agents can download from /upgrade/{name}', empty: 'No package uploaded yet.', rowAttrs: (p) => ({ 'data-package': p.name }) },
      ),
    );
  }
  load();
}

function uploadForm(onDone) {
  const file = h('input', { id: 'package-file', type: 'file', required: true, 'data-write': 'true' });
  const name = h('input', { id: 'package-name', pattern: '[A-Za-z0-9][A-Za-z0-9._\\-]{0,127}', required: true });
  const progress = h('progress', { id: 'package-progress', max: 100, value: 0, 'aria-label': 'upload progress' });
  const label = h('span', { id: 'package-progress-text' });
  const status = h('div', { 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', id: 'package-upload', 'data-write': 'true' }, 'Upload');
  file.addEventListener('change', () => {
    if (file.files[0] && !name.value) name.value = file.files[0].name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^[^A-Za-z0-9]+/, '');
  });
  const form = h(
    'form',
    {
      id: 'package-form',
      onsubmit: (e) => {
        e.preventDefault();
        const f = file.files[0];
        if (!f) return fill(status, notice('error', 'Choose a file.'));
        if (!NAME.test(name.value) || name.value.includes('..')) return fill(status, notice('error', 'Name: letters, digits, . _ - (no ..), up to 128.'));
        submit.disabled = true;
        fill(status);
        const xhr = new XMLHttpRequest();
        xhr.open('PUT', `${API}/packages/${encodeURIComponent(name.value)}`);
        xhr.setRequestHeader('authorization', `Bearer ${currentSession()?.token}`);
        xhr.setRequestHeader('content-type', 'application/octet-stream');
        xhr.upload.onprogress = (ev) => {
          if (!ev.lengthComputable) return;
          progress.value = Math.round((100 * ev.loaded) / ev.total);
          fill(label, `${bytes(ev.loaded)} of ${bytes(ev.total)}`);
        };
        const finish = (text) => {
          submit.disabled = false;
          fill(status, text);
          onDone();
        };
        xhr.onload = () => {
          let body = null;
          try {
            body = JSON.parse(xhr.responseText);
          } catch {
            /* not JSON */
          }
          if (xhr.status === 200 || xhr.status === 201) {
            progress.value = 100;
            finish(notice('info', `Uploaded ${body.name}: ${bytes(body.size)}, sha256 ${body.sha256}.`));
          } else finish(notice('error', `Upload failed: ${problemText({ status: xhr.status, body })}`));
        };
        xhr.onerror = () => finish(notice('error', 'Upload failed: the connection was closed (too large?).'));
        xhr.send(f);
      },
    },
    h('fieldset', {}, h('legend', {}, 'Upload a package'),
      field('File', file), field('Name', name, 'letters, digits, . _ - (up to 128); uploading an existing name replaces it'),
      submit, ' ', progress, ' ', label),
    status,
  );
  return form;
}
