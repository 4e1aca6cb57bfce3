/** Small pieces several views share: level badges, the log detail panel, count lists, legends. */
import { h } from './dom.js';
import { formatNumber, formatTime, LEVEL_COLORS } from './format.js';

export function levelBadge(level) {
  const known = Object.hasOwn(LEVEL_COLORS, level);
  return h('span', { class: ['level', known ? `level-${level.toLowerCase()}` : 'level-unknown'] }, level);
}

/** Everything about one log as a definition list; extra_fields each on its own row. */
export function logDetail(log) {
  const rows = [
    ['id', log.id],
    ['timestamp', log.timestamp],
    ['ingested_at', log.ingested_at],
    ['service', log.service],
    ['level', log.level],
    ['hostname', log.source?.hostname],
    ['file', log.source?.file],
  ].filter(([, v]) => v !== undefined && v !== null && v !== '');
  const extra = Object.entries(log.extra_fields ?? {});
  return h(
    'div',
    { class: 'log-detail' },
    h('pre', { class: 'log-message' }, log.message),
    h(
      'div',
      { class: 'detail-columns' },
      h(
        'dl',
        { class: 'fields' },
        rows.map(([k, v]) => [h('dt', {}, k), h('dd', {}, String(v))]),
      ),
      h(
        'div',
        {},
        h('h4', {}, 'extra_fields'),
        extra.length
          ? h(
              'dl',
              { class: 'fields extra-fields' },
              extra.map(([k, v]) => [h('dt', {}, k), h('dd', {}, String(v))]),
            )
          : h('p', { class: 'muted' }, 'none'),
      ),
    ),
  );
}

/** A one-line log row for the live tail. */
export function logLine(log) {
  return [
    h('span', { class: 'time' }, formatTime(log.timestamp)),
    levelBadge(log.level),
    h('span', { class: 'service' }, log.service),
    h('span', { class: 'line-message' }, log.message),
  ];
}

/** Counts as a list of bars, largest first: `{ key: n }`. Clicking calls onPick(key) when given. */
export function countBars(counts, { colors = {}, onPick, active = [] } = {}) {
  const entries = Object.entries(counts ?? {}).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const max = Math.max(1, ...entries.map(([, n]) => n));
  if (!entries.length) return h('p', { class: 'muted' }, 'no data');
  return h(
    'ul',
    { class: 'count-bars' },
    entries.map(([key, n]) => {
      const bar = h('span', { class: 'bar-fill' });
      bar.style.width = `${(n / max) * 100}%`;
      if (colors[key]) bar.style.backgroundColor = colors[key];
      const label = h('span', { class: 'bar-label' }, key);
      const item = h(
        'li',
        { class: ['count-bar', active.includes(key) && 'active'], title: `${key}: ${formatNumber(n)}` },
        label,
        h('span', { class: 'bar-track' }, bar),
        h('span', { class: 'bar-count' }, formatNumber(n)),
      );
      if (onPick) {
        item.classList.add('clickable');
        item.tabIndex = 0;
        item.addEventListener('click', () => onPick(key));
        item.addEventListener('keydown', (e) => {
          if (e.key === 'Enter') onPick(key);
        });
      }
      return item;
    }),
  );
}

export function legend(keys, colors) {
  return h(
    'ul',
    { class: 'legend' },
    keys.map((key) => {
      const swatch = h('span', { class: 'swatch' });
      swatch.style.backgroundColor = colors[key] ?? '#888';
      return h('li', {}, swatch, key);
    }),
  );
}

export function card(label, value, hint) {
  return h(
    'div',
    { class: 'card', dataset: { metric: label } },
    h('div', { class: 'card-label' }, label),
    h('div', { class: 'card-value' }, value),
    hint ? h('div', { class: 'card-hint' }, hint) : null,
  );
}

/** A labelled form control. */
export function field(label, control, hint) {
  return h(
    'label',
    { class: 'field' },
    h('span', { class: 'field-label' }, label),
    control,
    hint ? h('small', {}, hint) : null,
  );
}
