// A sparkline in SVG: the trend of the last samples, with the scale written beside it.
import { h, s } from './dom.js';

export function sparkline(values, { label, unit = '', width = 220, height = 48 } = {}) {
  const max = Math.max(1, ...values);
  const step = values.length > 1 ? width / (values.length - 1) : width;
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(height - 2 - (v / max) * (height - 4)).toFixed(1)}`).join(' ');
  const last = values.length ? values[values.length - 1] : 0;
  const svg = s(
    'svg',
    { class: 'spark', viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', 'aria-label': `${label}: ${format(last)}${unit}, peak ${format(max)}${unit} over the last ${values.length} samples` },
    s('line', { x1: 0, y1: height - 1, x2: width, y2: height - 1, class: 'axis' }),
    values.length > 1 ? s('polyline', { points, class: 'line' }) : null,
  );
  return h('figure', { class: 'chart' }, svg, h('figcaption', {}, `${label}: ${format(last)}${unit} (peak ${format(max)}${unit})`));
}

const format = (v) => (Number.isInteger(v) ? String(v) : v.toFixed(1));

/** Keeps the last `n` samples per key across renders. */
export function sampler(n = 60) {
  const series = new Map();
  return {
    add(key, v) {
      const arr = series.get(key) ?? [];
      arr.push(Number(v) || 0);
      if (arr.length > n) arr.shift();
      series.set(key, arr);
      return arr;
    },
    get: (key) => series.get(key) ?? [],
  };
}
