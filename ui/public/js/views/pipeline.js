/**
 * Pipeline: the stages generate → ship → parse → index / aggregate → materialise / alert → webhook
 * drawn as a graph, each with records in / out, errors and lag read from GET /metrics (public,
 * Prometheus text), plus every stage counter and consumer-group lag as tables and GET /health.
 * Refreshes every REFRESH_MS; rates are the change between two refreshes.
 */
import { api, describeError, fetchPrometheusText } from '../api.js';
import { h, notice, replace, s } from '../dom.js';
import { formatNumber } from '../format.js';
import {
  lagByGroup,
  PIPELINE_EDGES,
  PIPELINE_STAGES,
  pipelineStatus,
  stageCounters,
} from '../pipeline-model.js';
import { parsePrometheus } from '../prometheus.js';

export const REFRESH_MS = 3_000;

// Grid positions (column, row) of the drawing.
const LAYOUT = {
  generate: [0, 0],
  ship: [1, 0],
  parse: [2, 0],
  index: [3, 0],
  aggregate: [3, 1],
  materialise: [4, 1],
  alert: [4, 2],
  webhook: [5, 2],
};
const BOX_W = 200;
const BOX_H = 126;
const COL = 228;
const ROW = 150;
const MARGIN = 8;

function stateOf(st) {
  if (st.in === undefined && st.out === undefined && st.lag === undefined) return 'unreported';
  if (st.errors > 0) return 'errors';
  if (st.lag > 0) return 'lagging';
  return 'ok';
}

const show = (n) => (n === undefined ? '—' : formatNumber(n));

function box(def, st, extra) {
  const [col, row] = LAYOUT[def.id];
  const x = MARGIN + col * COL;
  const y = MARGIN + row * ROW;
  const state = stateOf(st);
  const lines = [
    ['in', show(st.in)],
    ['out', `${show(st.out)}${st.outRate !== undefined ? `  (${formatNumber(st.outRate)}/s)` : ''}`],
    ['lag', st.lag === undefined ? '—' : `${formatNumber(st.lag)}${st.lagUnit === 'bytes' ? ' B' : ''}`],
  ];
  if (st.errors) lines.push(['errors', formatNumber(st.errors)]);
  if (extra) lines.push(extra);
  return s(
    'g',
    { class: ['stage', `stage-${state}`], dataset: { stage: def.id, state } },
    s('rect', { x, y, width: BOX_W, height: BOX_H, rx: 8 }),
    s('text', { x: x + 12, y: y + 22, class: 'stage-name' }, def.label),
    s(
      'text',
      { x: x + BOX_W - 10, y: y + 21, class: 'stage-state', 'text-anchor': 'end' },
      state === 'unreported' ? 'no metrics' : state,
    ),
    s('text', { x: x + 12, y: y + 40, class: 'stage-topics' }, `${def.from} → ${def.to}`),
    lines.map(([k, v], i) =>
      s(
        'text',
        { x: x + 12, y: y + 60 + i * 16, class: ['stage-metric', `metric-${k}`] },
        s('tspan', { class: 'k' }, `${k} `),
        s('tspan', { class: 'v' }, v),
      ),
    ),
    s('title', {}, `${def.label}: ${def.from} → ${def.to}`),
  );
}

function edge(from, to) {
  const [c1, r1] = LAYOUT[from];
  const [c2, r2] = LAYOUT[to];
  const x1 = MARGIN + c1 * COL + BOX_W;
  const y1 = MARGIN + r1 * ROW + BOX_H / 2;
  const x2 = MARGIN + c2 * COL;
  const y2 = MARGIN + r2 * ROW + BOX_H / 2;
  let d;
  if (r1 === r2) d = `M${x1},${y1} H${x2 - 2}`;
  else if (c2 > c1) {
    // Down from the source's bottom, then right into the target.
    const xs = MARGIN + c1 * COL + BOX_W / 2;
    d = `M${xs},${MARGIN + r1 * ROW + BOX_H} V${y2} H${x2 - 2}`;
  } else {
    d = `M${MARGIN + c1 * COL + BOX_W / 2},${MARGIN + r1 * ROW + BOX_H} V${MARGIN + r2 * ROW - 2}`;
  }
  return s('path', { d, class: 'edge', 'marker-end': 'url(#arrow)' });
}

/** The layout puts aggregate under index: its edge from parse leaves parse's bottom. */
function diagram(status, extras) {
  const width = MARGIN * 2 + 5 * COL + BOX_W;
  const height = MARGIN * 2 + 2 * ROW + BOX_H;
  return s(
    'svg',
    {
      viewBox: `0 0 ${width} ${height}`,
      class: 'pipeline-diagram',
      role: 'img',
      'aria-label': 'Pipeline stages',
    },
    s(
      'defs',
      {},
      s(
        'marker',
        {
          id: 'arrow',
          viewBox: '0 0 10 10',
          refX: 9,
          refY: 5,
          markerWidth: 7,
          markerHeight: 7,
          orient: 'auto-start-reverse',
        },
        s('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrow-head' }),
      ),
    ),
    PIPELINE_EDGES.map(([a, b]) => edge(a, b)),
    PIPELINE_STAGES.map((def) =>
      box(
        def,
        status.find((st) => st.id === def.id),
        extras[def.id],
      ),
    ),
  );
}

export function mount(container) {
  const controller = new AbortController();
  let previous;
  let previousAt = 0;
  let timer = null;

  const graph = h('div', { class: 'panel pipeline-graph' });
  const counters = h('div', { class: 'panel' });
  const lag = h('div', { class: 'panel' });
  const health = h('div', { class: 'health' });
  const updated = h('span', { class: 'muted updated' });
  const errors = h('div');

  async function loadHealth() {
    try {
      const response = await fetch('/health', { signal: controller.signal });
      const body = await response.json();
      replace(
        health,
        h('span', { class: ['badge', `health-${body.status}`] }, `${body.mode ?? ''} · ${body.status}`),
        Object.entries(body.dependencies ?? {}).map(([name, d]) =>
          h(
            'span',
            {
              class: ['badge', `health-${d.status === 'up' ? 'ok' : 'down'}`],
              title: d.error ?? `${d.latency_ms ?? '?'} ms`,
            },
            `${name}: ${d.status}`,
          ),
        ),
      );
    } catch {
      // Health is a nicety here; the metrics below are the view's content.
    }
  }

  // What the stores hold (from the API, not /metrics): shown under the stages that fill them.
  async function storeExtras() {
    try {
      const m = await api('GET', '/metrics/system', {
        query: { time_range: '5m' },
        signal: controller.signal,
      });
      return {
        index: ['stored', `${formatNumber(m.indexed_logs)} (${m.search_store ?? '?'})`],
        materialise: ['view', m.metrics_view ?? '?'],
      };
    } catch {
      return {};
    }
  }

  async function refresh() {
    clearTimeout(timer);
    try {
      const extras = await storeExtras();
      const text = await fetchPrometheusText(controller.signal);
      const now = performance.now();
      const samples = parsePrometheus(text);
      const status = pipelineStatus(samples, previous, previous ? (now - previousAt) / 1000 : 0);
      previous = status;
      previousAt = now;
      replace(errors);
      replace(
        graph,
        h(
          'div',
          { class: 'panel-head' },
          h('h3', {}, 'Stages'),
          h(
            'ul',
            { class: 'legend' },
            ['ok', 'lagging', 'errors', 'unreported'].map((st) =>
              h(
                'li',
                {},
                h('span', { class: ['swatch', `swatch-${st}`] }),
                st === 'unreported' ? 'no metrics' : st,
              ),
            ),
          ),
        ),
        diagram(status, extras),
      );
      const rows = stageCounters(samples).sort((a, b) => a.stage.localeCompare(b.stage));
      replace(
        counters,
        h('h3', {}, 'Stage counters (logflow_stage_records_*_total)'),
        h(
          'table',
          { class: 'data-table' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              h('th', {}, 'stage'),
              h('th', { class: 'num' }, 'in'),
              h('th', { class: 'num' }, 'out'),
              h('th', { class: 'num' }, 'errors'),
            ),
          ),
          h(
            'tbody',
            {},
            rows.length
              ? rows.map((r) =>
                  h(
                    'tr',
                    {},
                    h('td', { class: 'mono' }, r.stage),
                    h('td', { class: 'num' }, formatNumber(r.in)),
                    h('td', { class: 'num' }, formatNumber(r.out)),
                    h('td', { class: ['num', r.errors > 0 && 'bad'] }, formatNumber(r.errors)),
                  ),
                )
              : h(
                  'tr',
                  {},
                  h('td', { colspan: 4, class: 'muted' }, 'No stage reports metrics in this process.'),
                ),
          ),
        ),
      );
      const lags = lagByGroup(samples);
      replace(
        lag,
        h('h3', {}, 'Consumer lag (logflow_consumer_lag)'),
        h(
          'table',
          { class: 'data-table' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              h('th', {}, 'group'),
              h('th', {}, 'topic'),
              h('th', { class: 'num' }, 'partitions'),
              h('th', { class: 'num' }, 'lag'),
            ),
          ),
          h(
            'tbody',
            {},
            lags.length
              ? lags.map((r) =>
                  h(
                    'tr',
                    {},
                    h('td', { class: 'mono' }, r.group),
                    h('td', { class: 'mono' }, r.topic),
                    h('td', { class: 'num' }, formatNumber(r.partitions)),
                    h('td', { class: ['num', r.lag > 0 && 'warn'] }, formatNumber(r.lag)),
                  ),
                )
              : h(
                  'tr',
                  {},
                  h('td', { colspan: 4, class: 'muted' }, 'No consumer groups report lag in this process.'),
                ),
          ),
        ),
      );
      updated.textContent = `updated ${new Date().toLocaleTimeString()} · every ${REFRESH_MS / 1000} s`;
    } catch (err) {
      if (controller.signal.aborted) return;
      replace(errors, notice('error', `GET /metrics: ${describeError(err)}`));
    }
    loadHealth();
    if (!controller.signal.aborted) timer = setTimeout(refresh, REFRESH_MS);
  }

  replace(
    container,
    h('div', { class: 'toolbar' }, health, h('div', { class: 'spacer' }), updated),
    errors,
    graph,
    h(
      'p',
      { class: 'muted small' },
      'Numbers come from GET /metrics of the server this page is served by: in the embedded mode every stage runs in it; in the distributed mode each stage runs in its own process and reports on its own /metrics. "no metrics" means the stage exposes no counters there.',
    ),
    h('div', { class: 'dashboard-grid' }, counters, lag),
  );
  refresh();
  return () => {
    controller.abort();
    clearTimeout(timer);
  };
}
