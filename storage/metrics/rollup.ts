/**
 * Query logic both metric views share: they fetch the stored windows of a resolution for a range
 * (memory: a map walk; Redis: ZRANGEBYSCORE), then roll them up here into API buckets.
 */
import type { MetricPoint, MetricResolution, MetricWindow } from './types.ts';
import { bucketStarts, HOUR_MS, pickResolution, RESOLUTION_MS, windowStartOf } from './windows.ts';

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

/** A stored range to read: windows of `resolution` with window_start in [from, to), of one service or all. */
export interface WindowRange {
  resolution: MetricResolution;
  from: number;
  to: number;
  service?: string;
}

/**
 * Per-service totals over [from, to), read mostly from the 1h rollups: the whole hours inside
 * a range answered at 1m resolution come from their 1h windows (a day is 24 reads per service
 * instead of 1,440), the partial hours at either end from 1m windows. An hour a service has no
 * 1h window for (not emitted yet, written before rollups existed, or no logs) is read from that
 * service's 1m windows instead, so the answer equals the 1m-only one whenever the rollups agree
 * with their minutes, which they do (the aggregate stage counts both from the same logs).
 *
 * `read` gets ranges and returns each one's windows (a view pipelines them); it is called once,
 * or twice when some hour lacks a rollup. `services` are all the services the view knows.
 */
export async function totalsByService(
  from: number,
  to: number,
  now: number,
  services: readonly string[],
  read: (ranges: WindowRange[]) => Promise<MetricWindow[][]>,
): Promise<ServiceTotals> {
  const plan = planTotals(from, to, now);
  const firstHour = Math.ceil(plan.fromWindow / HOUR_MS) * HOUR_MS;
  const lastHour = Math.floor(to / HOUR_MS) * HOUR_MS;
  if (plan.resolution !== '1m' || lastHour <= firstHour) {
    const [windows] = await read([{ resolution: plan.resolution, from: plan.fromWindow, to }]);
    return sumByService(windows);
  }
  const [head, hours, tail] = await read([
    { resolution: '1m', from: plan.fromWindow, to: firstHour },
    { resolution: '1h', from: firstHour, to: lastHour },
    { resolution: '1m', from: lastHour, to },
  ]);
  const rolled = new Set(hours.map((w) => `${w.service}\u0000${w.window_start}`));
  const gaps: WindowRange[] = [];
  for (const service of services) {
    for (let hour = firstHour; hour < lastHour; hour += HOUR_MS) {
      if (rolled.has(`${service}\u0000${hour}`)) continue;
      // Consecutive hours without a rollup are read as one range.
      const last = gaps[gaps.length - 1];
      if (last?.service === service && last.to === hour) last.to += HOUR_MS;
      else gaps.push({ resolution: '1m', from: hour, to: hour + HOUR_MS, service });
    }
  }
  const filled = gaps.length > 0 ? (await read(gaps)).flat() : [];
  return sumByService([...head, ...hours, ...filled, ...tail]);
}
