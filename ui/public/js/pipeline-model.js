/**
 * The pipeline as the UI draws it, and how each stage's numbers are read from GET /metrics.
 * Stages report in different metric families (topology processors by node name, the shipper as
 * stage="shipper", sink connectors by sink, consumer groups by lag), so each stage lists where
 * its numbers may come from; the first family present wins, and a stage that reports nothing
 * shows "not reported" instead of a made-up zero.
 */
import { sumOf } from './prometheus.js';

const IN = 'logflow_stage_records_in_total';
const OUT = 'logflow_stage_records_out_total';
const ERRORS = 'logflow_stage_errors_total';
const LAG = 'logflow_consumer_lag';
const SINK = 'logflow_sink_records_total';
const WEBHOOK = 'logflow_webhook_deliveries_total';
// The materialiser reports in the sinks' family as sink="metrics-view"; every other sink indexes.
const INDEX_SINK = (s) => s !== 'metrics-view';

const stage = (names) => ({ name: IN, match: { stage: names } });
const stageOut = (names) => ({ name: OUT, match: { stage: names } });
const groupLike =
  (...fragments) =>
  (g) =>
    typeof g === 'string' && fragments.some((f) => g.includes(f));

/**
 * Each stage: where records come from (`from`, topic or files), where they go (`to`), and the
 * metric sources for in / out / errors / lag (`lag` sums every partition of the matching groups).
 */
export const PIPELINE_STAGES = [
  {
    id: 'generate',
    label: 'generate',
    from: 'generator',
    to: 'log files',
    in: [],
    out: [stageOut(['generator', 'generate'])],
    errors: [{ name: ERRORS, match: { stage: ['generator', 'generate'] } }],
    lag: [],
  },
  {
    id: 'ship',
    label: 'ship',
    from: 'log files',
    to: 'logs-raw',
    in: [stage(['shipper', 'ship'])],
    out: [stageOut(['shipper', 'ship'])],
    errors: [{ name: ERRORS, match: { stage: ['shipper', 'ship'] } }],
    lag: [{ name: 'logflow_shipper_bytes_behind', match: {}, unit: 'bytes' }],
  },
  {
    id: 'parse',
    label: 'parse',
    from: 'logs-raw',
    to: 'logs-parsed',
    in: [{ name: OUT, match: { stage: 'logs-raw-source' } }, stage('parse')],
    out: [stageOut('logs-parsed-sink'), stageOut('parse')],
    errors: [{ name: ERRORS, match: { stage: ['logs-raw-source', 'parse', 'logs-parsed-sink'] } }],
    lag: [{ name: LAG, match: { group: 'logflow-parse' } }],
  },
  {
    id: 'index',
    label: 'index',
    from: 'logs-parsed',
    to: 'search store',
    in: [stage(['index', 'search-store-sink', 'elasticsearch-sink'])],
    out: [
      stageOut(['index', 'search-store-sink', 'elasticsearch-sink']),
      { name: SINK, match: { sink: INDEX_SINK, result: 'written' } },
    ],
    errors: [
      { name: ERRORS, match: { stage: ['index', 'search-store-sink', 'elasticsearch-sink'] } },
      { name: SINK, match: { sink: INDEX_SINK, result: 'dead_lettered' } },
    ],
    lag: [{ name: LAG, match: { group: groupLike('index', 'search-store', 'elasticsearch') } }],
  },
  {
    id: 'aggregate',
    label: 'aggregate',
    from: 'logs-parsed',
    to: 'logs-metrics',
    in: [{ name: OUT, match: { stage: 'logs-parsed-source' } }],
    out: [stageOut('logs-metrics-sink')],
    errors: [{ name: ERRORS, match: { stage: groupLike('aggregate', 'service-level', 'metric-window') } }],
    lag: [{ name: LAG, match: { group: 'logflow-aggregate' } }],
  },
  {
    id: 'materialise',
    label: 'materialise',
    from: 'logs-metrics',
    to: 'metrics view',
    in: [stage(['materialise', 'materialiser'])],
    out: [
      stageOut(['materialise', 'materialiser']),
      { name: SINK, match: { sink: 'metrics-view', result: 'written' } },
    ],
    errors: [
      { name: ERRORS, match: { stage: ['materialise', 'materialiser'] } },
      { name: SINK, match: { sink: 'metrics-view', result: 'skipped' } },
    ],
    lag: [{ name: LAG, match: { group: groupLike('materialis') } }],
  },
  {
    id: 'alert',
    label: 'alert',
    from: 'logs-metrics',
    to: 'alerts',
    in: [{ name: OUT, match: { stage: 'logs-metrics-source' } }],
    out: [stageOut('alerts-sink')],
    errors: [{ name: ERRORS, match: { stage: ['logs-metrics-source', 'alert-evaluator', 'alerts-sink'] } }],
    lag: [{ name: LAG, match: { group: 'logflow-alert' } }],
  },
  {
    id: 'webhook',
    label: 'webhook',
    from: 'alerts',
    to: 'receivers',
    in: [stage(['webhook', 'webhooks'])],
    out: [stageOut(['webhook', 'webhooks']), { name: WEBHOOK, match: { result: 'delivered' } }],
    errors: [
      { name: ERRORS, match: { stage: ['webhook', 'webhooks'] } },
      { name: WEBHOOK, match: { result: ['gave_up', 'refused'] } },
    ],
    lag: [{ name: LAG, match: { group: groupLike('webhook') } }],
  },
];

/** Edges of the drawing: parse fans out to index and aggregate, aggregate to materialise and alert. */
export const PIPELINE_EDGES = [
  ['generate', 'ship'],
  ['ship', 'parse'],
  ['parse', 'index'],
  ['parse', 'aggregate'],
  ['aggregate', 'materialise'],
  ['aggregate', 'alert'],
  ['alert', 'webhook'],
];

function first(samples, sources) {
  for (const source of sources) {
    const value = sumOf(samples, source.name, source.match);
    if (value !== undefined) return { value, unit: source.unit ?? 'records' };
  }
  return undefined;
}

function total(samples, sources) {
  let sum;
  for (const source of sources) {
    const value = sumOf(samples, source.name, source.match);
    if (value !== undefined) sum = (sum ?? 0) + value;
  }
  return sum;
}

/**
 * The numbers of every stage from parsed samples: `{ id, in, out, errors, lag, lagUnit }`, each
 * undefined when the stage does not report it. With `previous` (an earlier result) and the seconds
 * between them, `outRate` is records per second.
 */
export function pipelineStatus(samples, previous, seconds) {
  return PIPELINE_STAGES.map((def) => {
    const lag = first(samples, def.lag);
    const status = {
      id: def.id,
      in: first(samples, def.in)?.value,
      out: first(samples, def.out)?.value,
      errors: total(samples, def.errors),
      lag: lag?.value,
      lagUnit: lag?.unit,
    };
    const before = previous?.find((p) => p.id === def.id);
    if (before && seconds > 0 && status.out !== undefined && before.out !== undefined) {
      status.outRate = Math.max(0, (status.out - before.out) / seconds);
    }
    return status;
  });
}

/** Every `stage` label with its in/out/errors counters (the detail table). */
export function stageCounters(samples) {
  const rows = new Map();
  const row = (name) => {
    if (!rows.has(name)) rows.set(name, { stage: name, in: 0, out: 0, errors: 0 });
    return rows.get(name);
  };
  for (const sample of samples) {
    const name = sample.labels.stage;
    if (name === undefined) continue;
    if (sample.name === IN) row(name).in += sample.value;
    else if (sample.name === OUT) row(name).out += sample.value;
    else if (sample.name === ERRORS) row(name).errors += sample.value;
  }
  return [...rows.values()];
}

/** Consumer lag summed over partitions, per group and topic. */
export function lagByGroup(samples) {
  const rows = new Map();
  for (const sample of samples) {
    if (sample.name !== LAG) continue;
    const key = `${sample.labels.group}\u0000${sample.labels.topic}`;
    const row = rows.get(key) ?? {
      group: sample.labels.group,
      topic: sample.labels.topic,
      lag: 0,
      partitions: 0,
    };
    row.lag += sample.value;
    row.partitions++;
    rows.set(key, row);
  }
  return [...rows.values()].sort((a, b) => a.group.localeCompare(b.group) || a.topic.localeCompare(b.topic));
}
