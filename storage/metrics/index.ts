/** Metric windows as the API reads them: MetricsView (memory/SQLite or Redis) and window math. */
export { type CreateMetricsViewOptions, createMetricsView } from './create-metrics-view.ts';
export { MemoryMetricsView, type MemoryMetricsViewOptions } from './memory-view.ts';
export { RedisMetricsView, type RedisMetricsViewOptions } from './redis-view.ts';
export { planRange, planTotals, rollupSeries, sumByService } from './rollup.ts';
export type { MetricPoint, MetricResolution, MetricsView, MetricWindow } from './types.ts';
export {
  bucketStarts,
  DAY_MS,
  HOUR_MS,
  MINUTE_MS,
  parseDuration,
  pickResolution,
  RESOLUTION_MS,
  RESOLUTION_RETENTION_MS,
  windowStartOf,
} from './windows.ts';
