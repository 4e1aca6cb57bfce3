/**
 * Live tail: follows GET /logs/tail (SSE through fetch, with the Bearer header) with the chosen
 * filters. Newest first, at most MAX_LINES kept; pausing keeps the connection and counts what
 * arrives (up to MAX_LINES held back) so resuming shows it. Filters reconnect; a dropped
 * connection is retried with backoff.
 */
import { ApiError, describeError, followTail } from '../api.js';
import { field, logDetail, logLine } from '../components.js';
import { h, replace } from '../dom.js';
import { formatNumber, LEVELS } from '../format.js';

export const MAX_LINES = 500;

export function mount(container) {
  let controller = null;
  let paused = false;
  let held = [];
  let received = 0;
  let droppedByServer = 0;
  let retryTimer = null;
  let retryDelay = 1000;
  let unmounted = false;

  const queryInput = h('input', { type: 'search', name: 'query', placeholder: 'Words in the message' });
  const levelBoxes = LEVELS.map((level) =>
    h(
      'label',
      { class: ['chip', `chip-${level.toLowerCase()}`] },
      h('input', { type: 'checkbox', name: 'level', value: level }),
      level,
    ),
  );
  const serviceInput = h('input', {
    type: 'text',
    name: 'services',
    placeholder: 'e.g. auth-service, order-service',
  });
  const state = h('span', { class: 'conn-state', dataset: { state: 'connecting' } }, 'connecting…');
  const counters = h('span', { class: 'tail-counters muted' });
  const pauseButton = h('button', { type: 'button', class: 'pause' }, 'Pause');
  const list = h('ol', { class: 'tail-list', 'aria-label': 'Live log lines' });
  const empty = h('p', { class: 'empty tail-empty' }, 'Waiting for logs…');

  function setState(name, text) {
    state.dataset.state = name;
    state.textContent = text;
  }

  function renderCounters() {
    const parts = [`${formatNumber(received)} received`, `${formatNumber(list.childElementCount)} shown`];
    if (paused) parts.push(`${formatNumber(held.length)} waiting`);
    if (droppedByServer)
      parts.push(`${formatNumber(droppedByServer)} dropped by the server (client too slow)`);
    counters.textContent = parts.join(' · ');
  }

  function lineFor(log) {
    const item = h(
      'li',
      { class: ['tail-line', `lvl-${String(log.level).toLowerCase()}`], dataset: { id: log.id } },
      logLine(log),
    );
    item.addEventListener('click', () => {
      const open = item.querySelector('.log-detail');
      if (open) open.remove();
      else item.append(logDetail(log));
    });
    return item;
  }

  function show(logs) {
    if (!logs.length) return;
    empty.remove();
    const fragment = document.createDocumentFragment();
    for (let i = logs.length - 1; i >= 0; i--) fragment.append(lineFor(logs[i]));
    list.prepend(fragment);
    while (list.childElementCount > MAX_LINES) list.lastElementChild.remove();
  }

  // Rendering per animation frame keeps a burst of hundreds of logs per second from freezing the tab.
  let pending = [];
  let frame = 0;
  function flush() {
    frame = 0;
    const batch = pending.slice(-MAX_LINES);
    pending = [];
    show(batch);
    renderCounters();
  }

  function onEvent(event) {
    if (event.event === 'dropped') {
      try {
        droppedByServer += JSON.parse(event.data).count ?? 0;
      } catch {}
      renderCounters();
      return;
    }
    if (event.event !== 'log') return;
    let log;
    try {
      log = JSON.parse(event.data);
    } catch {
      return;
    }
    received++;
    if (paused) {
      held.push(log);
      if (held.length > MAX_LINES) held.shift();
      renderCounters();
      return;
    }
    pending.push(log);
    if (!frame) frame = requestAnimationFrame(flush);
  }

  function filters() {
    return {
      query: queryInput.value.trim(),
      levels: levelBoxes
        .map((l) => l.querySelector('input'))
        .filter((i) => i.checked)
        .map((i) => i.value),
      services: serviceInput.value
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    };
  }

  /** (Re)connects; with `fresh`, what the previous filters brought is dropped. */
  function connect(fresh = false) {
    clearTimeout(retryTimer);
    controller?.abort();
    if (fresh) {
      pending = [];
      held = [];
      received = 0;
      droppedByServer = 0;
      replace(list);
      list.before(empty);
      renderCounters();
    }
    const mine = new AbortController();
    controller = mine;
    setState('connecting', 'connecting…');
    followTail(filters(), {
      signal: mine.signal,
      onEvent,
      onOpen: () => {
        retryDelay = 1000;
        setState(paused ? 'paused' : 'live', paused ? 'paused' : 'live');
      },
    })
      .then(() => {
        if (!mine.signal.aborted && !unmounted) retry('stream ended');
      })
      .catch((err) => {
        if (mine.signal.aborted || unmounted) return;
        if (err instanceof ApiError && err.status === 401) return;
        retry(describeError(err));
      });
  }

  function retry(reason) {
    setState('error', `disconnected (${reason}); retrying in ${Math.round(retryDelay / 1000)} s`);
    retryTimer = setTimeout(() => connect(false), retryDelay);
    retryDelay = Math.min(30_000, retryDelay * 2);
  }

  pauseButton.addEventListener('click', () => {
    paused = !paused;
    pauseButton.textContent = paused ? 'Resume' : 'Pause';
    pauseButton.classList.toggle('primary', paused);
    if (state.dataset.state === 'live' || state.dataset.state === 'paused') {
      setState(paused ? 'paused' : 'live', paused ? 'paused' : 'live');
    }
    if (!paused) {
      show(held);
      held = [];
    }
    renderCounters();
  });

  const form = h(
    'form',
    {
      class: 'tail-form',
      onsubmit: (e) => {
        e.preventDefault();
        connect(true);
      },
    },
    h(
      'div',
      { class: 'search-row' },
      queryInput,
      h('button', { type: 'submit', class: 'primary' }, 'Apply filters'),
    ),
    h(
      'div',
      { class: 'filter-row' },
      h('fieldset', { class: 'levels' }, h('legend', {}, 'Levels'), levelBoxes),
      field('Services', serviceInput, 'comma-separated; empty = all'),
    ),
  );
  for (const box of levelBoxes) box.querySelector('input').addEventListener('change', () => connect(true));

  replace(
    container,
    form,
    h(
      'div',
      { class: 'tail-toolbar' },
      state,
      counters,
      h('div', { class: 'spacer' }),
      pauseButton,
      h(
        'button',
        {
          type: 'button',
          onclick: () => {
            replace(list);
            held = [];
            list.before(empty);
            renderCounters();
          },
        },
        'Clear',
      ),
    ),
    h('div', { class: 'panel tail-panel' }, empty, list),
  );
  renderCounters();
  connect(false);

  return () => {
    unmounted = true;
    clearTimeout(retryTimer);
    if (frame) cancelAnimationFrame(frame);
    controller?.abort();
  };
}
