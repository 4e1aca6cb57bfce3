/**
 * Search: words, levels, services and a time range → a histogram (GET /logs/histogram), counts by
 * level and service, and a results table (POST /logs/search) whose rows open to show every field.
 * Pages follow next_cursor (stable while new logs arrive); earlier cursors are kept for "Previous".
 */
import { ApiError, api, describeError } from '../api.js';
import { stackedBarChart } from '../charts.js';
import { countBars, field, legend, levelBadge, logDetail } from '../components.js';
import { h, notice, replace, select } from '../dom.js';
import { formatNumber, formatTime, LEVEL_COLORS, LEVELS, utcInputToIso } from '../format.js';

const RANGES = [
  ['15m', 'Last 15 minutes', 15 * 60_000],
  ['1h', 'Last hour', 3_600_000],
  ['6h', 'Last 6 hours', 6 * 3_600_000],
  ['24h', 'Last 24 hours', 86_400_000],
  ['7d', 'Last 7 days', 7 * 86_400_000],
  ['custom', 'Custom (UTC)…', 0],
];
const PAGE_SIZES = [25, 50, 100, 200];

// Kept across visits of the view within the tab: going to the dashboard and back keeps the search.
const state = {
  query: '',
  levels: [],
  services: [],
  range: '1h',
  from: '',
  to: '',
  limit: 50,
};

export function mount(container) {
  const controller = new AbortController();
  let cursors = [undefined];
  const knownServices = new Set();

  const queryInput = h('input', {
    type: 'search',
    name: 'query',
    placeholder: 'Words in the message, e.g. payment failed',
    value: state.query,
    'aria-label': 'Search words',
  });
  const levelBoxes = LEVELS.map((level) =>
    h(
      'label',
      { class: ['chip', `chip-${level.toLowerCase()}`] },
      h('input', { type: 'checkbox', name: 'level', value: level, checked: state.levels.includes(level) }),
      level,
    ),
  );
  const serviceSelect = h('select', { name: 'services', multiple: true, size: 1, 'aria-label': 'Services' });
  const rangeSelect = select(
    { name: 'range' },
    RANGES.map(([v, l]) => [v, l]),
    state.range,
  );
  const fromInput = h('input', { type: 'datetime-local', name: 'from', value: state.from, step: 1 });
  const toInput = h('input', { type: 'datetime-local', name: 'to', value: state.to, step: 1 });
  const customFields = h(
    'div',
    { class: 'custom-range' },
    field('From (UTC)', fromInput),
    field('To (UTC)', toInput),
  );
  const limitSelect = select(
    { name: 'limit' },
    PAGE_SIZES.map((n) => [n, `${n} per page`]),
    state.limit,
  );
  const status = h('div', { class: 'status-line' });
  const histogram = h('div', { class: 'panel histogram' });
  const aggregations = h('div', { class: 'aggregations' });
  const results = h('div', { class: 'results' });
  const pager = h('div', { class: 'pager' });

  const syncCustom = () => customFields.classList.toggle('hidden', rangeSelect.value !== 'custom');
  rangeSelect.addEventListener('change', syncCustom);
  syncCustom();

  function renderServiceOptions() {
    const chosen = new Set(state.services);
    const names = [...new Set([...knownServices, ...chosen])].sort();
    serviceSelect.size = Math.min(5, Math.max(2, names.length));
    replace(
      serviceSelect,
      names.map((name) => h('option', { value: name, selected: chosen.has(name) }, name)),
    );
  }

  function readForm() {
    state.query = queryInput.value.trim();
    state.levels = levelBoxes
      .map((l) => l.querySelector('input'))
      .filter((i) => i.checked)
      .map((i) => i.value);
    state.services = [...serviceSelect.selectedOptions].map((o) => o.value);
    state.range = rangeSelect.value;
    state.from = fromInput.value;
    state.to = toInput.value;
    state.limit = Number(limitSelect.value);
  }

  function timeBounds() {
    if (state.range === 'custom') {
      return { start_time: utcInputToIso(state.from), end_time: utcInputToIso(state.to) };
    }
    const span = RANGES.find(([v]) => v === state.range)?.[2] ?? 3_600_000;
    const end = Date.now();
    return { start_time: new Date(end - span).toISOString(), end_time: new Date(end).toISOString() };
  }

  async function loadHistogram(bounds) {
    try {
      const data = await api('GET', '/logs/histogram', {
        query: {
          query: state.query,
          levels: state.levels,
          services: state.services,
          start_time: bounds.start_time,
          end_time: bounds.end_time,
          interval: 'auto',
        },
        signal: controller.signal,
      });
      const present = LEVELS.filter((l) => data.buckets.some((b) => b.by_level?.[l]));
      replace(
        histogram,
        h(
          'div',
          { class: 'panel-head' },
          h('h3', {}, `Logs over time (${formatNumber(data.total ?? 0)})`),
          legend(present, LEVEL_COLORS),
        ),
        stackedBarChart({
          buckets: data.buckets.map((b) => ({ t: b.key, values: b.by_level ?? {} })),
          keys: LEVELS,
          colors: LEVEL_COLORS,
          intervalMs: data.interval_ms,
          label: 'Histogram of matching logs by level',
        }),
      );
    } catch (err) {
      if (!controller.signal.aborted) replace(histogram, notice('error', `Histogram: ${describeError(err)}`));
    }
  }

  function toggleFilter(list, value) {
    const i = list.indexOf(value);
    if (i === -1) list.push(value);
    else list.splice(i, 1);
  }

  function renderAggregations(aggs) {
    for (const name of Object.keys(aggs.by_service ?? {})) knownServices.add(name);
    renderServiceOptions();
    replace(
      aggregations,
      h(
        'div',
        { class: 'panel' },
        h('h3', {}, 'By level'),
        countBars(aggs.by_level, {
          colors: LEVEL_COLORS,
          active: state.levels,
          onPick: (level) => {
            toggleFilter(state.levels, level);
            for (const box of levelBoxes) {
              const input = box.querySelector('input');
              input.checked = state.levels.includes(input.value);
            }
            run();
          },
        }),
      ),
      h(
        'div',
        { class: 'panel' },
        h('h3', {}, 'By service'),
        countBars(aggs.by_service, {
          active: state.services,
          onPick: (service) => {
            toggleFilter(state.services, service);
            renderServiceOptions();
            run();
          },
        }),
      ),
    );
  }

  function renderTable(data, page) {
    if (!data.logs.length) {
      replace(results, h('p', { class: 'empty' }, 'No logs match. Widen the time range or remove a filter.'));
      return;
    }
    const body = h('tbody');
    for (const log of data.logs) {
      const detailRow = h('tr', { class: 'detail-row hidden' }, h('td', { colspan: 4 }, logDetail(log)));
      const row = h(
        'tr',
        {
          class: 'log-row',
          tabIndex: 0,
          'aria-expanded': 'false',
          dataset: { id: log.id, level: log.level },
        },
        h('td', { class: 'time' }, formatTime(log.timestamp)),
        h('td', {}, levelBadge(log.level)),
        h('td', { class: 'service' }, log.service),
        h('td', { class: 'message' }, log.message),
      );
      const toggle = () => {
        const open = detailRow.classList.toggle('hidden') === false;
        row.setAttribute('aria-expanded', String(open));
        row.classList.toggle('open', open);
      };
      row.addEventListener('click', toggle);
      row.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          toggle();
        }
      });
      body.append(row, detailRow);
    }
    replace(
      results,
      h(
        'table',
        { class: 'logs-table' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', { class: 'col-time' }, 'Time (UTC)'),
            h('th', {}, 'Level'),
            h('th', {}, 'Service'),
            h('th', {}, 'Message'),
          ),
        ),
        body,
      ),
    );
    const first = page * state.limit + 1;
    const last = page * state.limit + data.logs.length;
    replace(
      pager,
      h(
        'button',
        {
          type: 'button',
          disabled: page === 0,
          onclick: () => load(page - 1),
        },
        '← Previous',
      ),
      h(
        'span',
        { class: 'page-info' },
        `${formatNumber(first)}–${formatNumber(last)} of ${formatNumber(data.total)}`,
      ),
      h(
        'button',
        {
          type: 'button',
          class: 'next-page',
          disabled: !data.next_cursor,
          onclick: () => {
            cursors[page + 1] = data.next_cursor;
            load(page + 1);
          },
        },
        'Next →',
      ),
    );
  }

  let bounds;
  let sequence = 0;
  async function load(page) {
    const mine = ++sequence;
    replace(status, h('span', { class: 'muted' }, 'Searching…'));
    try {
      const data = await api('POST', '/logs/search', {
        body: {
          ...(state.query ? { query: state.query } : {}),
          ...(state.levels.length ? { levels: state.levels } : {}),
          ...(state.services.length ? { services: state.services } : {}),
          ...(bounds.start_time ? { start_time: bounds.start_time } : {}),
          ...(bounds.end_time ? { end_time: bounds.end_time } : {}),
          limit: state.limit,
          ...(cursors[page] ? { cursor: cursors[page] } : {}),
        },
        signal: controller.signal,
      });
      if (mine !== sequence) return;
      replace(
        status,
        h(
          'span',
          { class: 'result-count' },
          `${formatNumber(data.total)} logs`,
          h('span', { class: 'muted' }, ` · ${data.query_time_ms} ms`),
        ),
      );
      if (page === 0) renderAggregations(data.aggregations ?? {});
      renderTable(data, page);
    } catch (err) {
      if (controller.signal.aborted || mine !== sequence) return;
      if (err instanceof ApiError && err.status === 401) return;
      replace(status, notice('error', describeError(err)));
      replace(results);
      replace(pager);
    }
  }

  function run() {
    readForm();
    bounds = timeBounds();
    cursors = [undefined];
    loadHistogram(bounds);
    load(0);
  }

  const form = h(
    'form',
    {
      class: 'search-form',
      role: 'search',
      onsubmit: (e) => {
        e.preventDefault();
        run();
      },
    },
    h(
      'div',
      { class: 'search-row' },
      queryInput,
      h('button', { type: 'submit', class: 'primary' }, 'Search'),
    ),
    h(
      'div',
      { class: 'filter-row' },
      h('fieldset', { class: 'levels' }, h('legend', {}, 'Levels'), levelBoxes),
      field('Services', serviceSelect, 'Ctrl/⌘-click for several'),
      field('Time range', rangeSelect),
      customFields,
      field('Page size', limitSelect),
      h(
        'button',
        {
          type: 'button',
          class: 'link',
          onclick: () => {
            queryInput.value = '';
            for (const box of levelBoxes) box.querySelector('input').checked = false;
            state.services = [];
            renderServiceOptions();
            run();
          },
        },
        'Clear filters',
      ),
    ),
  );

  replace(
    container,
    form,
    histogram,
    h(
      'div',
      { class: 'search-body' },
      aggregations,
      h('div', { class: 'results-panel panel' }, status, results, pager),
    ),
  );

  // Services the metrics know about fill the filter before the first result does.
  api('GET', '/metrics/system', { query: { time_range: '24h' }, signal: controller.signal })
    .then((m) => {
      for (const s of m.services ?? []) knownServices.add(s.service);
      renderServiceOptions();
    })
    .catch(() => {});
  renderServiceOptions();
  run();
  return () => controller.abort();
}
