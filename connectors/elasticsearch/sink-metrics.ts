/**
 * The sink's Prometheus metrics, on the registry the process serves at `/metrics` (the app's
 * shared registry when given, else prom-client's default `register`). One set per registry,
 * shared by every sink in the process and told apart by the `sink` label.
 */
import { Counter, Gauge, Histogram, type Registry, register } from 'prom-client';

export interface SinkMetrics {
  records: Counter<'sink' | 'result'>;
  bulkDuration: Histogram<'sink' | 'outcome'>;
  buffered: Gauge<'sink'>;
  up: Gauge<'sink'>;
}

const byRegistry = new WeakMap<Registry, SinkMetrics>();

function existing<T>(registry: Registry, name: string): T | undefined {
  return registry.getSingleMetric(name) as T | undefined;
}

export function sinkMetrics(registry: Registry = register): SinkMetrics {
  let metrics = byRegistry.get(registry);
  if (metrics) return metrics;
  const registers = [registry];
  metrics = {
    records:
      existing(registry, 'logflow_sink_records_total') ??
      new Counter({
        name: 'logflow_sink_records_total',
        help: 'Records handled by a sink, by result (written, duplicate, dead_lettered, retried, skipped)',
        labelNames: ['sink', 'result'] as const,
        registers,
      }),
    bulkDuration:
      existing(registry, 'logflow_sink_bulk_duration_seconds') ??
      new Histogram({
        name: 'logflow_sink_bulk_duration_seconds',
        help: 'Latency of one bulk request, by outcome (ok, partial, failed)',
        labelNames: ['sink', 'outcome'] as const,
        buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
        registers,
      }),
    buffered:
      existing(registry, 'logflow_sink_buffered_records') ??
      new Gauge({
        name: 'logflow_sink_buffered_records',
        help: 'Records read but not yet acknowledged by the sink',
        labelNames: ['sink'] as const,
        registers,
      }),
    up:
      existing(registry, 'logflow_sink_target_up') ??
      new Gauge({
        name: 'logflow_sink_target_up',
        help: '1 while the sink target accepts writes, 0 while the sink waits for it (consumption paused)',
        labelNames: ['sink'] as const,
        registers,
      }),
  };
  byRegistry.set(registry, metrics);
  return metrics;
}
