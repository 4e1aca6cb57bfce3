/**
 * Metric windows: the aggregate stage's output (`logs-metrics` Avro value) and the materialised
 * view the API reads (Redis in the distributed mode, memory/SQLite in the embedded mode).
 */
export interface MetricWindow {
  service: string;
  /** Epoch ms, inclusive. */
  window_start: number;
  /** Epoch ms, exclusive. */
  window_end: number;
  counts: Record<string, number>;
  total: number;
  /** (ERROR + FATAL) / total. */
  error_rate: number;
  /** Increases with every update of the same window; the view keeps the highest. */
  version: number;
  /** Window size: `1m` (default when absent) or the `1h` rollup. Added by the aggregate stage. */
  resolution?: MetricResolution;
}

/** The window sizes the aggregate stage emits and the views keep. */
export type MetricResolution = '1m' | '1h';

export interface MetricPoint {
  /** Bucket start, epoch ms. */
  timestamp: number;
  total: number;
  counts: Record<string, number>;
}

export interface MetricsView {
  readonly kind: 'redis' | 'memory';
  /** Idempotent under replays: a window update with a lower or equal version is ignored. */
  upsert(windows: MetricWindow[]): Promise<void>;
  /**
   * Counts per bucket of `bucketMs` in [from, to), for one service or all (service undefined).
   * Buckets with no logs are present with zero counts.
   */
  series(from: number, to: number, bucketMs: number, service?: string): Promise<MetricPoint[]>;
  /** Per-service totals in [from, to). */
  byService(
    from: number,
    to: number,
  ): Promise<Record<string, { total: number; counts: Record<string, number> }>>;
  services(): Promise<string[]>;
  /** Drops everything (the materialiser rebuilds from the topic). */
  clear(): Promise<void>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}
