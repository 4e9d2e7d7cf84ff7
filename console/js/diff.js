// A line diff (longest common subsequence) for the conflict view; inputs are bounded by the server (1 MiB).
import { h } from './dom.js';

/** `[{op: ' '|'-'|'+', line}]` turning `a` into `b`. */
export function diffLines(a, b) {
  const x = a.split('\n');
  const y = b.split('\n');
  if (x.length * y.length > 4_000_000) return [...x.map((line) => ({ op: '-', line })), ...y.map((line) => ({ op: '+', line }))];
  const n = x.length;
  const m = y.length;
  const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i][j] = x[i] === y[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const out = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (x[i] === y[j]) {
      out.push({ op: ' ', line: x[i] });
      i += 1;
      j += 1;
    } else if (lcs[i + 1][j] >= lcs[i][j + 1]) out.push({ op: '-', line: x[i++] });
    else out.push({ op: '+', line: y[j++] });
  }
  while (i < n) out.push({ op: '-', line: x[i++] });
  while (j < m) out.push({ op: '+', line: y[j++] });
  return out;
}

export function diffView(a, b, { labelA = 'current', labelB = 'yours' } = {}) {
  const rows = diffLines(a, b);
  return h(
    'pre',
    { class: 'diff', 'aria-label': `differences: lines starting with - are only in ${labelA}, + only in ${labelB}` },
    rows.map((r) => h('span', { class: r.op === '-' ? 'del' : r.op === '+' ? 'add' : 'same' }, `${r.op} ${r.line}\n`)),
  );
}
