/**
 * The aggregate stage's per-window value: counts per level for one service, and how it becomes
 * a `logs-metrics` record. Pure functions; the stage stores `LevelCounts` in its window store.
 */
import type { MetricResolution, MetricWindow } from '../../storage/metrics/types.ts';
import { RESOLUTION_MS } from '../../storage/metrics/windows.ts';

export interface LevelCounts {
  counts: Record<string, number>;
  total: number;
}

export function emptyCounts(): LevelCounts {
  return { counts: {}, total: 0 };
}

/** Adds one log of `level`; returns a new value (store values are never mutated in place). */
export function addLevel(agg: LevelCounts, level: string): LevelCounts {
  return {
    counts: { ...agg.counts, [level]: (agg.counts[level] ?? 0) + 1 },
    total: agg.total + 1,
  };
}

/** Adds partial counts (from the pre-aggregator); returns a new value. */
export function addCounts(agg: LevelCounts, counts: Record<string, number>): LevelCounts {
  const next = { ...agg.counts };
  let added = 0;
  for (const [level, n] of Object.entries(counts)) {
    next[level] = (next[level] ?? 0) + n;
    added += n;
  }
  return { counts: next, total: agg.total + added };
}

/** (ERROR + FATAL) / total, 0 for an empty window. */
export function errorRate(counts: Record<string, number>, total: number): number {
  if (total <= 0) return 0;
  return ((counts.ERROR ?? 0) + (counts.FATAL ?? 0)) / total;
}

/**
 * The emitted window. `version` is the number of logs aggregated so far: it strictly increases
 * with every update and is the same for the same content, so replays are idempotent downstream.
 */
export function toMetricWindow(
  service: string,
  windowStart: number,
  resolution: MetricResolution,
  agg: LevelCounts,
): MetricWindow {
  return {
    service,
    window_start: windowStart,
    window_end: windowStart + RESOLUTION_MS[resolution],
    counts: { ...agg.counts },
    total: agg.total,
    error_rate: errorRate(agg.counts, agg.total),
    version: agg.total,
    resolution,
  };
}
