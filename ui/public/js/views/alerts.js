/**
 * Alerts: triggered alerts (GET /alerts/history, acknowledge), rules (list, create, edit, enable,
 * delete) and silences (list, create, expire). Writes need the admin role; viewers see the same
 * lists without the buttons (and the API would refuse them anyway).
 */
import { ApiError, api, describeError, session } from '../api.js';
import { field } from '../components.js';
import { h, notice, replace, select } from '../dom.js';
import { formatDuration, formatNumber, formatTime, LEVELS } from '../format.js';

const CONDITIONS = [
  ['count_above', 'count above (logs in window)'],
  ['error_rate_above', 'error rate above (0–1)'],
  ['absence', 'absence (fewer than threshold)'],
];
const SEVERITIES = ['info', 'warning', 'critical'];
const SILENCE_DURATIONS = [
  [900, '15 minutes'],
  [3600, '1 hour'],
  [4 * 3600, '4 hours'],
  [86_400, '1 day'],
  [7 * 86_400, '7 days'],
];

function statusBadge(status) {
  return h('span', { class: ['badge', `status-${status}`] }, status);
}

function table(headers, rows, emptyText) {
  return h(
    'table',
    { class: 'data-table' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        headers.map((t) => h('th', {}, t)),
      ),
    ),
    h(
      'tbody',
      {},
      rows.length ? rows : h('tr', {}, h('td', { colspan: headers.length, class: 'muted' }, emptyText)),
    ),
  );
}

/** Labels as "key=value" lines ⇄ an object. */
function parseLabels(text) {
  const labels = {};
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (!trimmed) continue;
    const eq = trimmed.indexOf('=');
    if (eq <= 0) throw new Error(`Label "${trimmed}" is not key=value`);
    labels[trimmed.slice(0, eq).trim()] = trimmed.slice(eq + 1).trim();
  }
  return labels;
}

/** Targets as "URL [json|slack]" lines ⇄ [{ url, format }]. */
function parseTargets(text) {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((line) => {
      const [url, format] = line.split(/\s+/);
      return format ? { url, format } : { url };
    });
}

export function mount(container) {
  const controller = new AbortController();
  const admin = session.isAdmin();
  const signal = controller.signal;
  let rules = [];

  const historyPanel = h('section', { class: 'panel alert-history' });
  const rulesPanel = h('section', { class: 'panel alert-rules' });
  const formPanel = h('section', { class: 'panel rule-form hidden' });
  const silencesPanel = h('section', { class: 'panel silences' });
  const messages = h('div');

  const flash = (kind, text) => replace(messages, notice(kind, text));
  const failed = (err) => {
    if (signal.aborted || (err instanceof ApiError && err.status === 401)) return;
    flash('error', describeError(err));
  };

  let historyStatus = '';
  async function loadHistory() {
    try {
      const data = await api('GET', '/alerts/history', {
        query: { limit: 100, status: historyStatus || undefined },
        signal,
      });
      const filter = select(
        { name: 'status', 'aria-label': 'Status filter' },
        [
          ['', 'all'],
          ['firing', 'firing'],
          ['acknowledged', 'acknowledged'],
          ['resolved', 'resolved'],
        ],
        historyStatus,
      );
      filter.addEventListener('change', () => {
        historyStatus = filter.value;
        loadHistory();
      });
      replace(
        historyPanel,
        h(
          'div',
          { class: 'panel-head' },
          h('h3', {}, `Triggered alerts (${formatNumber(data.total)})`),
          h(
            'div',
            { class: 'actions' },
            filter,
            h('button', { type: 'button', class: 'refresh-history', onclick: loadHistory }, 'Refresh'),
          ),
        ),
        table(
          [
            'Status',
            'Rule',
            'Severity',
            'Service',
            'Value / threshold',
            'Started',
            'Resolved',
            'Acknowledged',
            '',
          ],
          data.alerts.map((a) =>
            h(
              'tr',
              { dataset: { id: a.id } },
              h('td', {}, statusBadge(a.status)),
              h('td', {}, a.rule_name ?? `#${a.rule_id}`),
              h('td', {}, h('span', { class: ['badge', `sev-${a.severity}`] }, a.severity)),
              h('td', {}, a.service ?? 'all'),
              h('td', { class: 'num' }, `${formatNumber(a.value)} / ${formatNumber(a.threshold)}`),
              h('td', { class: 'time' }, formatTime(a.started_at, { ms: false })),
              h('td', { class: 'time' }, a.resolved_at ? formatTime(a.resolved_at, { ms: false }) : '—'),
              h('td', {}, a.acknowledged_by ? `${a.acknowledged_by}` : '—'),
              h(
                'td',
                {},
                admin && a.status === 'firing'
                  ? h(
                      'button',
                      {
                        type: 'button',
                        onclick: async () => {
                          try {
                            await api('POST', `/alerts/history/${a.id}/acknowledge`, { signal });
                            flash('info', `Alert ${a.id} acknowledged.`);
                            loadHistory();
                          } catch (err) {
                            failed(err);
                          }
                        },
                      },
                      'Acknowledge',
                    )
                  : null,
              ),
            ),
          ),
          'No alerts have fired.',
        ),
      );
    } catch (err) {
      failed(err);
    }
  }

  function ruleForm(rule) {
    const v = rule ?? {
      name: '',
      description: '',
      service: null,
      levels: [],
      condition: 'count_above',
      threshold: 10,
      recovery_threshold: null,
      window_seconds: 60,
      for_seconds: 0,
      keep_firing_seconds: 0,
      severity: 'warning',
      labels: {},
      enabled: true,
      targets: [],
    };
    const inputs = {
      name: h('input', { name: 'name', required: true, maxlength: 200, value: v.name }),
      description: h('input', { name: 'description', maxlength: 2000, value: v.description ?? '' }),
      service: h('input', { name: 'service', placeholder: 'all services', value: v.service ?? '' }),
      condition: select({ name: 'condition' }, CONDITIONS, v.condition),
      threshold: h('input', {
        name: 'threshold',
        type: 'number',
        min: 0,
        step: 'any',
        required: true,
        value: v.threshold,
      }),
      recovery_threshold: h('input', {
        name: 'recovery_threshold',
        type: 'number',
        min: 0,
        step: 'any',
        placeholder: 'same as threshold',
        value: v.recovery_threshold ?? '',
      }),
      window_seconds: h('input', {
        name: 'window_seconds',
        type: 'number',
        min: 10,
        max: 86400,
        required: true,
        value: v.window_seconds,
      }),
      for_seconds: h('input', {
        name: 'for_seconds',
        type: 'number',
        min: 0,
        max: 86400,
        value: v.for_seconds,
      }),
      keep_firing_seconds: h('input', {
        name: 'keep_firing_seconds',
        type: 'number',
        min: 0,
        max: 86400,
        value: v.keep_firing_seconds,
      }),
      severity: select(
        { name: 'severity' },
        SEVERITIES.map((s) => [s, s]),
        v.severity,
      ),
      enabled: h('input', { name: 'enabled', type: 'checkbox', checked: v.enabled }),
      labels: h('textarea', { name: 'labels', rows: 2, placeholder: 'team=payments' }),
      targets: h('textarea', { name: 'targets', rows: 2, placeholder: 'https://hooks.example.com/x slack' }),
    };
    inputs.labels.value = Object.entries(v.labels ?? {})
      .map(([k, val]) => `${k}=${val}`)
      .join('\n');
    inputs.targets.value = (v.targets ?? [])
      .map((t) => (t.format ? `${t.url} ${t.format}` : t.url))
      .join('\n');
    const levelBoxes = LEVELS.map((level) =>
      h(
        'label',
        { class: ['chip', `chip-${level.toLowerCase()}`] },
        h('input', {
          type: 'checkbox',
          name: 'levels',
          value: level,
          checked: (v.levels ?? []).includes(level),
        }),
        level,
      ),
    );
    const formStatus = h('div');
    const form = h(
      'form',
      {
        class: 'rule-editor',
        onsubmit: async (e) => {
          e.preventDefault();
          let body;
          try {
            const num = (input) => (input.value === '' ? null : Number(input.value));
            body = {
              name: inputs.name.value.trim(),
              description: inputs.description.value.trim() || null,
              service: inputs.service.value.trim() || null,
              levels: levelBoxes
                .map((b) => b.querySelector('input'))
                .filter((i) => i.checked)
                .map((i) => i.value),
              condition: inputs.condition.value,
              threshold: num(inputs.threshold),
              recovery_threshold: num(inputs.recovery_threshold),
              window_seconds: num(inputs.window_seconds),
              for_seconds: num(inputs.for_seconds) ?? 0,
              keep_firing_seconds: num(inputs.keep_firing_seconds) ?? 0,
              severity: inputs.severity.value,
              enabled: inputs.enabled.checked,
              labels: parseLabels(inputs.labels.value),
              targets: parseTargets(inputs.targets.value),
            };
          } catch (err) {
            replace(formStatus, notice('error', err.message));
            return;
          }
          try {
            if (rule) await api('PUT', `/alerts/rules/${rule.id}`, { body, signal });
            else await api('POST', '/alerts/rules', { body, signal });
            formPanel.classList.add('hidden');
            flash('info', `Rule "${body.name}" ${rule ? 'saved' : 'created'}.`);
            loadRules();
          } catch (err) {
            if (signal.aborted) return;
            replace(formStatus, notice('error', describeError(err)));
          }
        },
      },
      h('h3', {}, rule ? `Edit rule #${rule.id}` : 'New alert rule'),
      h(
        'div',
        { class: 'form-grid' },
        field('Name', inputs.name),
        field('Description', inputs.description),
        field('Service', inputs.service, 'empty = every service'),
        field('Condition', inputs.condition),
        field('Threshold', inputs.threshold),
        field('Recovery threshold', inputs.recovery_threshold, 'resolve at or below (hysteresis)'),
        field('Window (s)', inputs.window_seconds),
        field('For (s)', inputs.for_seconds, 'must hold this long before firing'),
        field('Keep firing (s)', inputs.keep_firing_seconds),
        field('Severity', inputs.severity),
        field('Labels', inputs.labels, 'key=value per line'),
        field('Webhook targets', inputs.targets, 'URL [json|slack] per line'),
      ),
      h('fieldset', { class: 'levels' }, h('legend', {}, 'Levels counted (none = all)'), levelBoxes),
      h('label', { class: 'inline' }, inputs.enabled, ' enabled'),
      formStatus,
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'submit', class: 'primary' }, rule ? 'Save rule' : 'Create rule'),
        h('button', { type: 'button', onclick: () => formPanel.classList.add('hidden') }, 'Cancel'),
      ),
    );
    replace(formPanel, form);
    formPanel.classList.remove('hidden');
    formPanel.scrollIntoView({ behavior: 'smooth', block: 'nearest' });
    inputs.name.focus();
  }

  async function loadRules() {
    try {
      const data = await api('GET', '/alerts/rules', { signal });
      rules = data.rules;
      replace(
        rulesPanel,
        h(
          'div',
          { class: 'panel-head' },
          h('h3', {}, `Rules (${formatNumber(data.total)})`),
          admin
            ? h(
                'button',
                { type: 'button', class: 'primary new-rule', onclick: () => ruleForm(null) },
                'New rule',
              )
            : null,
        ),
        table(
          ['Name', 'Condition', 'Window', 'Service', 'Levels', 'Severity', 'Enabled', ''],
          rules.map((r) =>
            h(
              'tr',
              { dataset: { id: r.id } },
              h(
                'td',
                {},
                h('strong', {}, r.name),
                r.description ? h('div', { class: 'muted' }, r.description) : null,
              ),
              h('td', {}, `${r.condition.replaceAll('_', ' ')} ${formatNumber(r.threshold)}`),
              h(
                'td',
                {},
                formatDuration(r.window_seconds) +
                  (r.for_seconds ? ` (for ${formatDuration(r.for_seconds)})` : ''),
              ),
              h('td', {}, r.service ?? 'all'),
              h('td', {}, r.levels?.length ? r.levels.join(', ') : 'all'),
              h('td', {}, h('span', { class: ['badge', `sev-${r.severity}`] }, r.severity)),
              h(
                'td',
                {},
                admin
                  ? h('input', {
                      type: 'checkbox',
                      checked: r.enabled,
                      'aria-label': `Enable ${r.name}`,
                      onchange: async (e) => {
                        try {
                          await api('PATCH', `/alerts/rules/${r.id}`, {
                            body: { enabled: e.target.checked },
                            signal,
                          });
                          loadRules();
                        } catch (err) {
                          e.target.checked = !e.target.checked;
                          failed(err);
                        }
                      },
                    })
                  : r.enabled
                    ? 'yes'
                    : 'no',
              ),
              h(
                'td',
                { class: 'row-actions' },
                admin ? h('button', { type: 'button', onclick: () => ruleForm(r) }, 'Edit') : null,
                admin
                  ? h(
                      'button',
                      {
                        type: 'button',
                        class: 'danger',
                        onclick: async () => {
                          if (!confirm(`Delete rule "${r.name}"?`)) return;
                          try {
                            await api('DELETE', `/alerts/rules/${r.id}`, { signal });
                            flash('info', `Rule "${r.name}" deleted.`);
                            loadRules();
                          } catch (err) {
                            failed(err);
                          }
                        },
                      },
                      'Delete',
                    )
                  : null,
              ),
            ),
          ),
          'No rules yet.',
        ),
      );
      loadSilences();
    } catch (err) {
      failed(err);
    }
  }

  async function loadSilences() {
    try {
      const data = await api('GET', '/alerts/silences', { signal });
      const ruleName = (id) => rules.find((r) => r.id === id)?.name ?? `#${id}`;
      let createForm = null;
      if (admin) {
        const ruleSelect = select(
          { name: 'rule_id' },
          [['', 'any rule'], ...rules.map((r) => [r.id, r.name])],
          '',
        );
        const service = h('input', { name: 'service', placeholder: 'any service' });
        const duration = select({ name: 'duration_seconds' }, SILENCE_DURATIONS, 3600);
        const comment = h('input', { name: 'comment', placeholder: 'why' });
        createForm = h(
          'form',
          {
            class: 'silence-form',
            onsubmit: async (e) => {
              e.preventDefault();
              const body = {
                duration_seconds: Number(duration.value),
                ...(ruleSelect.value ? { rule_id: Number(ruleSelect.value) } : {}),
                ...(service.value.trim() ? { service: service.value.trim() } : {}),
                ...(comment.value.trim() ? { comment: comment.value.trim() } : {}),
              };
              try {
                await api('POST', '/alerts/silences', { body, signal });
                flash('info', 'Silence created.');
                loadSilences();
              } catch (err) {
                failed(err);
              }
            },
          },
          field('Rule', ruleSelect),
          field('Service', service),
          field('For', duration),
          field('Comment', comment),
          h('button', { type: 'submit', class: 'primary' }, 'Silence'),
        );
      }
      replace(
        silencesPanel,
        h('div', { class: 'panel-head' }, h('h3', {}, `Silences (${formatNumber(data.total)})`)),
        createForm,
        table(
          ['State', 'Rule', 'Service', 'From', 'Until', 'Comment', 'By', ''],
          data.silences.map((s) =>
            h(
              'tr',
              { dataset: { id: s.id } },
              h(
                'td',
                {},
                h(
                  'span',
                  { class: ['badge', s.active ? 'status-active' : 'status-expired'] },
                  s.active ? 'active' : 'inactive',
                ),
              ),
              h('td', {}, s.rule_id ? ruleName(s.rule_id) : 'any'),
              h('td', {}, s.service ?? 'any'),
              h('td', { class: 'time' }, formatTime(s.starts_at, { ms: false })),
              h('td', { class: 'time' }, formatTime(s.ends_at, { ms: false })),
              h('td', {}, s.comment ?? ''),
              h('td', {}, s.created_by),
              h(
                'td',
                {},
                admin
                  ? h(
                      'button',
                      {
                        type: 'button',
                        class: 'danger',
                        onclick: async () => {
                          try {
                            await api('DELETE', `/alerts/silences/${s.id}`, { signal });
                            flash('info', 'Silence removed.');
                            loadSilences();
                          } catch (err) {
                            failed(err);
                          }
                        },
                      },
                      'Expire',
                    )
                  : null,
              ),
            ),
          ),
          'No silences.',
        ),
      );
    } catch (err) {
      failed(err);
    }
  }

  replace(
    container,
    messages,
    historyPanel,
    rulesPanel,
    formPanel,
    silencesPanel,
    admin
      ? null
      : h(
          'p',
          { class: 'muted' },
          'Signed in as a viewer: changing rules and silences needs the admin role.',
        ),
  );
  loadHistory();
  loadRules();
  const timer = setInterval(loadHistory, 15_000);
  return () => {
    clearInterval(timer);
    controller.abort();
  };
}
