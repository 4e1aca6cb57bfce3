/**
 * Hand-drawn SVG charts (no library, nothing to download): a stacked bar chart for histograms and
 * a line chart for time series. Both scale to their container through the viewBox; every label
 * is an SVG text node, so series names from the data stay inert.
 */
import { s } from './dom.js';
import { axisTime, compactNumber, formatNumber, formatTime } from './format.js';

const W = 1200;
const PAD = { top: 12, right: 12, bottom: 26, left: 48 };

/** A "nice" axis maximum (1, 2, 5 × 10^n) at or above `max`. */
export function niceMax(max) {
  if (!(max > 0)) return 1;
  const exp = 10 ** Math.floor(Math.log10(max));
  for (const m of [1, 2, 5, 10]) if (m * exp >= max) return m * exp;
  return 10 * exp;
}

function frame(height, yMax, times, spanMs) {
  const plotW = W - PAD.left - PAD.right;
  const plotH = height - PAD.top - PAD.bottom;
  const nodes = [];
  for (let i = 0; i <= 4; i++) {
    const y = PAD.top + plotH - (plotH * i) / 4;
    nodes.push(s('line', { x1: PAD.left, x2: W - PAD.right, y1: y, y2: y, class: 'grid' }));
    nodes.push(
      s(
        'text',
        { x: PAD.left - 6, y: y + 4, 'text-anchor': 'end', class: 'axis' },
        compactNumber((yMax * i) / 4),
      ),
    );
  }
  if (times.length) {
    const ticks = Math.min(6, times.length);
    for (let i = 0; i < ticks; i++) {
      const index = Math.round((i * (times.length - 1)) / Math.max(1, ticks - 1));
      const x = times[index].x;
      // The outer labels are anchored inwards so they are not clipped at the edges.
      const anchor = ticks > 1 && i === 0 ? 'start' : ticks > 1 && i === ticks - 1 ? 'end' : 'middle';
      nodes.push(
        s(
          'text',
          { x, y: height - 8, 'text-anchor': anchor, class: 'axis' },
          axisTime(times[index].t, spanMs),
        ),
      );
    }
  }
  return { plotW, plotH, nodes };
}

function svgRoot(height, label, children) {
  return s(
    'svg',
    { viewBox: `0 0 ${W} ${height}`, class: 'chart', role: 'img', 'aria-label': label },
    children,
  );
}

/**
 * Stacked bars. `buckets`: `[{ t: epochMs, values: { key: n } }]`, `keys` in stacking order
 * (bottom first), `colors`: key → colour; `intervalMs` is the width of a bucket.
 */
export function stackedBarChart({ buckets, keys, colors, intervalMs, height = 180, label = 'chart' }) {
  const totals = buckets.map((b) => keys.reduce((n, k) => n + (b.values[k] ?? 0), 0));
  const yMax = niceMax(Math.max(0, ...totals));
  const spanMs = buckets.length ? buckets[buckets.length - 1].t - buckets[0].t + intervalMs : 0;
  const plotW = W - PAD.left - PAD.right;
  const slot = buckets.length ? plotW / buckets.length : plotW;
  const times = buckets.map((b, i) => ({ t: b.t, x: PAD.left + slot * i + slot / 2 }));
  const f = frame(height, yMax, times, spanMs);
  const bars = [];
  buckets.forEach((bucket, i) => {
    let y = PAD.top + f.plotH;
    const x = PAD.left + slot * i + Math.min(1, slot * 0.1);
    const width = Math.max(0.5, slot - Math.min(2, slot * 0.2));
    const group = s('g', { class: 'bar' });
    for (const key of keys) {
      const n = bucket.values[key] ?? 0;
      if (!n) continue;
      const hgt = (n / yMax) * f.plotH;
      y -= hgt;
      group.append(s('rect', { x, y, width, height: Math.max(0.5, hgt), fill: colors[key] ?? '#888' }));
    }
    const lines = keys.filter((k) => bucket.values[k]).map((k) => `${k}: ${formatNumber(bucket.values[k])}`);
    group.append(
      s('rect', { x: PAD.left + slot * i, y: PAD.top, width: slot, height: f.plotH, class: 'hover' }),
      s(
        'title',
        {},
        [`${formatTime(bucket.t, { ms: false })} UTC — ${formatNumber(totals[i])}`, ...lines].join('\n'),
      ),
    );
    bars.push(group);
  });
  return svgRoot(height, label, [...f.nodes, ...bars]);
}

/**
 * Lines, one per series. `points`: `[{ t, values: { key: n } }]`; a series missing in a point is 0.
 */
export function lineChart({ points, keys, colors, height = 220, label = 'chart' }) {
  const yMax = niceMax(Math.max(0, ...points.flatMap((p) => keys.map((k) => p.values[k] ?? 0))));
  const spanMs = points.length > 1 ? points[points.length - 1].t - points[0].t : 0;
  const plotW = W - PAD.left - PAD.right;
  const xOf = (i) => PAD.left + (points.length > 1 ? (plotW * i) / (points.length - 1) : plotW / 2);
  const times = points.map((p, i) => ({ t: p.t, x: xOf(i) }));
  const f = frame(height, yMax, times, spanMs);
  const yOf = (n) => PAD.top + f.plotH - (n / yMax) * f.plotH;
  const series = keys.map((key) => {
    const coords = points
      .map((p, i) => `${xOf(i).toFixed(1)},${yOf(p.values[key] ?? 0).toFixed(1)}`)
      .join(' ');
    return s(
      'g',
      { class: 'series', dataset: { key } },
      s('polyline', { points: coords, fill: 'none', stroke: colors[key] ?? '#888', 'stroke-width': 2 }),
      points.length <= 60
        ? points.map((p, i) =>
            s(
              'circle',
              { cx: xOf(i), cy: yOf(p.values[key] ?? 0), r: 2.5, fill: colors[key] ?? '#888' },
              s(
                'title',
                {},
                `${key} at ${formatTime(p.t, { ms: false })} UTC: ${formatNumber(p.values[key] ?? 0)}`,
              ),
            ),
          )
        : null,
    );
  });
  return svgRoot(height, label, [...f.nodes, ...series]);
}
