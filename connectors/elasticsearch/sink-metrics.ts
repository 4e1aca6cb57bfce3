/**
 * The sink's Prometheus metrics, on prom-client's default registry (the one `/metrics` serves).
 * Metrics are created once per process and shared by every sink, told apart by the `sink` label.
 */
import { Counter, Gauge, Histogram, register } from 'prom-client';

function once<T>(name: string, make: () => T): T {
  return (register.getSingleMetric(name) as T | undefined) ?? make();
}

export const sinkRecords = once(
  'logflow_sink_records_total',
  () =>
    new Counter({
      name: 'logflow_sink_records_total',
      help: 'Records handled by a sink, by result (written, duplicate, dead_lettered, retried, skipped)',
      labelNames: ['sink', 'result'] as const,
    }),
);

export const sinkBulkDuration = once(
  'logflow_sink_bulk_duration_seconds',
  () =>
    new Histogram({
      name: 'logflow_sink_bulk_duration_seconds',
      help: 'Latency of one bulk request, by outcome (ok, partial, failed)',
      labelNames: ['sink', 'outcome'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    }),
);

export const sinkBuffered = once(
  'logflow_sink_buffered_records',
  () =>
    new Gauge({
      name: 'logflow_sink_buffered_records',
      help: 'Records read but not yet acknowledged by the sink',
      labelNames: ['sink'] as const,
    }),
);

export const sinkAvailable = once(
  'logflow_sink_target_up',
  () =>
    new Gauge({
      name: 'logflow_sink_target_up',
      help: '1 while the sink target accepts writes, 0 while the sink waits for it (consumption paused)',
      labelNames: ['sink'] as const,
    }),
);
