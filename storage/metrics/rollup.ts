/**
 * Query logic both metric views share: they fetch the stored windows of a resolution for a range
 * (memory: a map walk; Redis: ZRANGEBYSCORE), then roll them up here into API buckets.
 */
import type { MetricPoint, MetricResolution, MetricWindow } from './types.ts';
import { bucketStarts, pickResolution, RESOLUTION_MS, windowStartOf } from './windows.ts';

export interface RangePlan {
  resolution: MetricResolution;
  bucketMs: number;
  /** Windows with window_start in [fromWindow, to) answer the query. */
  fromWindow: number;
  to: number;
}

export function planRange(from: number, to: number, bucketMs: number, now: number = Date.now()): RangePlan {
  const { resolution, bucketMs: effective } = pickResolution(from, to, bucketMs, now);
  return { resolution, bucketMs: effective, fromWindow: windowStartOf(from, effective), to };
}

/** Every bucket in the range, zero-filled, with the windows summed into the bucket holding their start. */
export function rollupSeries(windows: Iterable<MetricWindow>, plan: RangePlan): MetricPoint[] {
  const points = new Map<number, MetricPoint>();
  for (const start of bucketStarts(plan.fromWindow, plan.to, plan.bucketMs)) {
    points.set(start, { timestamp: start, total: 0, counts: {} });
  }
  for (const w of windows) {
    const point = points.get(windowStartOf(w.window_start, plan.bucketMs));
    if (!point) continue;
    point.total += w.total;
    for (const [level, n] of Object.entries(w.counts)) point.counts[level] = (point.counts[level] ?? 0) + n;
  }
  return [...points.values()];
}

export type ServiceTotals = Record<string, { total: number; counts: Record<string, number> }>;

export function sumByService(windows: Iterable<MetricWindow>): ServiceTotals {
  const out: ServiceTotals = {};
  for (const w of windows) {
    const entry = out[w.service] ?? { total: 0, counts: {} };
    out[w.service] = entry;
    entry.total += w.total;
    for (const [level, n] of Object.entries(w.counts)) entry.counts[level] = (entry.counts[level] ?? 0) + n;
  }
  return out;
}

/** The plan for byService: the finest resolution that still holds the range, whole windows. */
export function planTotals(from: number, to: number, now: number = Date.now()): RangePlan {
  const { resolution } = pickResolution(from, to, 1, now);
  const size = RESOLUTION_MS[resolution];
  return { resolution, bucketMs: size, fromWindow: windowStartOf(from, size), to };
}
