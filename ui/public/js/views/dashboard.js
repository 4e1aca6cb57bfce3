/**
 * Dashboard: overview cards (GET /metrics/overview), a time series per level
 * (GET /metrics/timeseries), per-service rows (GET /metrics/system) and one service's top errors
 * (GET /metrics/service/{name}). Ranges and intervals are exactly the API's; intervals the API
 * would refuse for a range (too many points) are disabled. Refreshes every REFRESH_MS.
 */
import { ApiError, api, describeError } from '../api.js';
import { lineChart } from '../charts.js';
import { card, countBars, field, legend } from '../components.js';
import { h, notice, replace } from '../dom.js';
import {
  defaultInterval,
  formatNumber,
  formatPercent,
  INTERVALS,
  intervalsFor,
  LEVEL_COLORS,
  LEVELS,
  TIME_RANGES,
} from '../format.js';

const REFRESH_MS = 10_000;
const state = { range: '1h', interval: '5m', service: '' };

export function mount(container) {
  const controller = new AbortController();
  let timer = null;

  const rangeSelect = h(
    'select',
    { name: 'time_range' },
    Object.keys(TIME_RANGES).map((r) => h('option', { value: r, selected: r === state.range }, r)),
  );
  const intervalSelect = h('select', { name: 'interval' });
  const serviceSelect = h('select', { name: 'service' }, h('option', { value: '' }, 'All services'));
  const autoRefresh = h('input', { type: 'checkbox', name: 'auto_refresh', checked: true });
  const updated = h('span', { class: 'muted updated' });
  const cards = h('div', { class: 'cards' });
  const chart = h('div', { class: 'panel timeseries' });
  const levels = h('div', { class: 'panel' });
  const services = h('div', { class: 'panel services' });
  const detail = h('div', { class: 'panel service-detail hidden' });
  const errors = h('div');

  function renderIntervals() {
    const allowed = intervalsFor(state.range);
    if (!allowed.includes(state.interval)) state.interval = defaultInterval(state.range);
    replace(
      intervalSelect,
      Object.keys(INTERVALS).map((i) =>
        h(
          'option',
          { value: i, selected: i === state.interval, disabled: !allowed.includes(i) },
          allowed.includes(i) ? i : `${i} (too many points)`,
        ),
      ),
    );
  }

  rangeSelect.addEventListener('change', () => {
    state.range = rangeSelect.value;
    state.interval = defaultInterval(state.range);
    renderIntervals();
    refresh();
  });
  intervalSelect.addEventListener('change', () => {
    state.interval = intervalSelect.value;
    refresh();
  });
  serviceSelect.addEventListener('change', () => {
    state.service = serviceSelect.value;
    refresh();
  });
  autoRefresh.addEventListener('change', schedule);

  function renderServiceOptions(names) {
    const all = [...new Set([...names, ...(state.service ? [state.service] : [])])].sort();
    replace(
      serviceSelect,
      h('option', { value: '' }, 'All services'),
      all.map((n) => h('option', { value: n, selected: n === state.service }, n)),
    );
  }

  async function showService(name) {
    detail.classList.remove('hidden');
    replace(
      detail,
      h('h3', {}, `${name} — top errors (${state.range})`),
      h('p', { class: 'muted' }, 'Loading…'),
    );
    try {
      const m = await api('GET', `/metrics/service/${encodeURIComponent(name)}`, {
        query: { time_range: state.range },
        signal: controller.signal,
      });
      replace(
        detail,
        h(
          'div',
          { class: 'panel-head' },
          h('h3', {}, `${name} — top errors (${state.range})`),
          h(
            'button',
            { type: 'button', class: 'link', onclick: () => detail.classList.add('hidden') },
            'Close',
          ),
        ),
        h(
          'p',
          {},
          `${formatNumber(m.total_logs)} logs · ${formatNumber(m.logs_per_minute)}/min · error rate ${formatPercent(m.error_rate)}`,
        ),
        m.top_errors.length
          ? h(
              'table',
              { class: 'data-table' },
              h('thead', {}, h('tr', {}, h('th', {}, 'Message'), h('th', { class: 'num' }, 'Count'))),
              h(
                'tbody',
                {},
                m.top_errors.map((e) =>
                  h(
                    'tr',
                    {},
                    h('td', { class: 'error-message' }, e.message),
                    h('td', { class: 'num' }, formatNumber(e.count)),
                  ),
                ),
              ),
            )
          : h('p', { class: 'muted' }, 'No errors in this range.'),
      );
    } catch (err) {
      if (!controller.signal.aborted) replace(detail, notice('error', describeError(err)));
    }
  }

  async function refresh() {
    clearTimeout(timer);
    const range = state.range;
    const query = { time_range: range };
    try {
      const [overview, system, series] = await Promise.all([
        api('GET', '/metrics/overview', { query, signal: controller.signal }),
        api('GET', '/metrics/system', { query, signal: controller.signal }),
        api('GET', '/metrics/timeseries', {
          query: { time_range: range, interval: state.interval, service: state.service || undefined },
          signal: controller.signal,
        }),
      ]);
      replace(errors);
      replace(
        cards,
        card('Total logs', formatNumber(overview.total_logs), `last ${range}`),
        card('Logs per minute', formatNumber(overview.logs_per_minute), `average over ${range}`),
        card('Error rate', formatPercent(overview.error_rate), 'ERROR + FATAL of all'),
        card(
          'Services',
          formatNumber(system.services_count ?? system.services.length),
          `reporting in ${range}`,
        ),
        card('Indexed logs', formatNumber(system.indexed_logs), `all time · ${system.search_store ?? ''}`),
      );
      const present = LEVELS.filter((l) => series.points.some((p) => p.by_level?.[l]));
      const keys = present.length ? present : ['INFO'];
      replace(
        chart,
        h(
          'div',
          { class: 'panel-head' },
          h('h3', {}, `Logs per ${state.interval} by level${state.service ? ` — ${state.service}` : ''}`),
          legend(keys, LEVEL_COLORS),
        ),
        lineChart({
          points: series.points.map((p) => ({ t: Date.parse(p.timestamp), values: p.by_level ?? {} })),
          keys,
          colors: LEVEL_COLORS,
          label: 'Logs per interval by level',
        }),
      );
      replace(levels, h('h3', {}, 'By level'), countBars(overview.by_level, { colors: LEVEL_COLORS }));
      renderServiceOptions(system.services.map((s) => s.service));
      replace(
        services,
        h('h3', {}, 'Services'),
        h(
          'table',
          { class: 'data-table services-table' },
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              h('th', {}, 'Service'),
              h('th', { class: 'num' }, 'Logs'),
              h('th', { class: 'num' }, 'Per minute'),
              h('th', { class: 'num' }, 'Error rate'),
              ['WARN', 'ERROR', 'FATAL'].map((l) => h('th', { class: 'num' }, l)),
            ),
          ),
          h(
            'tbody',
            {},
            system.services.length
              ? system.services.map((s) =>
                  h(
                    'tr',
                    { class: 'clickable', title: 'Show top errors', onclick: () => showService(s.service) },
                    h('td', {}, s.service),
                    h('td', { class: 'num' }, formatNumber(s.total_logs)),
                    h('td', { class: 'num' }, formatNumber(s.logs_per_minute)),
                    h('td', { class: ['num', s.error_rate >= 0.1 && 'bad'] }, formatPercent(s.error_rate)),
                    ['WARN', 'ERROR', 'FATAL'].map((l) =>
                      h('td', { class: 'num' }, formatNumber(s.by_level?.[l] ?? 0)),
                    ),
                  ),
                )
              : h('tr', {}, h('td', { colspan: 7, class: 'muted' }, 'No logs in this range yet.')),
          ),
        ),
      );
      updated.textContent = `updated ${new Date().toLocaleTimeString()}`;
    } catch (err) {
      if (controller.signal.aborted || (err instanceof ApiError && err.status === 401)) return;
      replace(errors, notice('error', describeError(err)));
    }
    schedule();
  }

  function schedule() {
    clearTimeout(timer);
    if (autoRefresh.checked && !controller.signal.aborted) timer = setTimeout(refresh, REFRESH_MS);
  }

  renderIntervals();
  replace(
    container,
    h(
      'div',
      { class: 'toolbar' },
      field('Time range', rangeSelect),
      field('Interval', intervalSelect),
      field('Service', serviceSelect),
      h('label', { class: 'inline' }, autoRefresh, ` auto-refresh every ${REFRESH_MS / 1000} s`),
      h('button', { type: 'button', onclick: refresh }, 'Refresh'),
      updated,
    ),
    errors,
    cards,
    chart,
    h('div', { class: 'dashboard-grid' }, services, levels),
    detail,
  );
  refresh();
  return () => {
    controller.abort();
    clearTimeout(timer);
  };
}
