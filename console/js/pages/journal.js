// Journal: statistics, hash-chain verification with its receipt (auditors), dead letters with retry (operators).
import { call, get } from '../api.js';
import { bytes, facts, fill, h, notice, problemText, table, when } from '../dom.js';

export const title = 'Journal';

export function render(main, ctx) {
  const stats = h('section', { id: 'journal-stats', 'aria-labelledby': 'h-jstats' });
  const verify = h('section', { id: 'journal-verify', 'aria-labelledby': 'h-verify' });
  const dead = h('section', { id: 'dead-letters', 'aria-labelledby': 'h-dl' });
  fill(main, h('h1', {}, 'Journal'), stats, verify, dead);

  const receipt = h('div', { id: 'verify-receipt', 'aria-live': 'polite' });
  if (ctx.session.role === 'auditor') {
    fill(verify, h('h2', { id: 'h-verify' }, 'Verify the hash chain'),
      h('button', { type: 'button', id: 'verify-run', onclick: () => runVerify(receipt) }, 'Run verify'), receipt);
  } else {
    fill(verify, h('h2', { id: 'h-verify' }, 'Verify the hash chain'), h('p', {}, 'Verification is run by auditors (log in as an auditor), or on the server with: comms-api journal verify.'));
  }

  ctx.every(5000, async () => {
    const r = await get('/journal/stats');
    if (!ctx.alive()) return;
    if (!r.ok) return fill(stats, notice('error', problemText(r)));
    const j = r.body;
    fill(
      stats,
      h('h2', { id: 'h-jstats' }, 'Statistics'),
      facts([
        ['Head seq', String(j.head_seq)],
        ['First seq', String(j.first_seq)],
        ['Entries', String(j.entries)],
        ['Size', `${bytes(j.size_bytes)} in rows, ${bytes(j.file_bytes)} on disk`],
      ]),
      table(
        [
          { label: 'Checkpoint', cell: (c) => c.name },
          { label: 'Seq', cell: (c) => String(c.seq) },
          { label: 'Lag', cell: (c) => String(c.lag) },
          { label: 'Updated', cell: (c) => when(c.updated_at) },
        ],
        j.checkpoints ?? [],
        { caption: 'Sink checkpoints' },
      ),
    );
  });
  if (ctx.operator) loadDeadLetters(dead, ctx);
  else fill(dead, h('h2', { id: 'h-dl' }, 'Dead letters'), h('p', {}, 'Dead letters are listed for operators.'));
}

async function runVerify(box) {
  fill(box, notice('info', 'Verifying…'));
  const r = await call('GET', '/journal/verify');
  if (!r.ok) return fill(box, notice('error', problemText(r)));
  const v = r.body;
  const sh = v.signed_head;
  const text = JSON.stringify({ ...v, verified_at: new Date().toISOString(), server: location.host }, null, 2);
  const download = h('a', { href: URL.createObjectURL(new Blob([text], { type: 'application/json' })), download: 'journal-verify-receipt.json', id: 'verify-download' }, 'Download the receipt (JSON)');
  fill(
    box,
    h('div', { class: `receipt ${v.ok ? 'ok' : 'bad'}`, id: 'receipt', 'data-ok': String(v.ok) },
      h('h3', {}, v.ok ? 'Chain intact' : 'Chain broken'),
      facts([
        ['Result', v.ok ? 'ok' : `broken at seq ${v.first_bad_seq}`],
        ['Entries checked', String(v.checked)],
        ['Verified at', new Date().toLocaleString()],
        sh ? ['Signed head', `seq ${sh.seq}, hash ${sh.hash}, ${sh.time}`] : ['Signed head', 'not reported by this server'],
        sh ? ['Signature', h('code', { class: 'hash' }, `${sh.key_id}: ${sh.signature}`)] : null,
      ]),
      h('pre', {}, text),
      download),
  );
}

async function loadDeadLetters(box, ctx) {
  const r = await get('/dead-letters?all=true&limit=200');
  if (!ctx.alive()) return;
  if (!r.ok) return fill(box, h('h2', { id: 'h-dl' }, 'Dead letters'), notice('error', problemText(r)));
  const status = h('div', { 'aria-live': 'polite', id: 'dl-status' });
  fill(
    box,
    h('h2', { id: 'h-dl' }, 'Dead letters'),
    status,
    table(
      [
        { label: 'Id', cell: (d) => String(d.id) },
        { label: 'Sink', cell: (d) => d.sink },
        { label: 'Seq', cell: (d) => String(d.seq) },
        { label: 'Reason', cell: (d) => d.reason },
        { label: 'Created', cell: (d) => when(d.created_at) },
        { label: 'State', cell: (d) => (d.resolved ? 'resolved' : 'open') },
        {
          label: 'Retry',
          cell: (d) =>
            d.resolved ? '—' : h('button', { type: 'button', 'data-write': 'true', 'data-key': `retry-${d.id}`, onclick: () => retry(d, status, box, ctx) }, `Retry ${d.id}`),
        },
      ],
      r.body.dead_letters,
      { caption: 'Items a sink refused (open and resolved)', empty: 'No dead letter.' },
    ),
  );
}

async function retry(d, status, box, ctx) {
  fill(status, notice('info', `Retrying ${d.id}…`));
  const r = await call('POST', `/dead-letters/${d.id}/retry`);
  if (!ctx.alive()) return;
  const msg = r.ok ? notice('info', `Dead letter ${d.id} delivered.`) : notice('error', `Dead letter ${d.id}: ${problemText(r)}`);
  await loadDeadLetters(box, ctx);
  fill(box.querySelector('#dl-status') ?? status, msg);
}
