/**
 * The embedded mode's metric view: windows in memory, optionally written through to a SQLite file
 * in the data dir so a restart does not lose the charts (the in-process transport may not keep
 * `logs-metrics` across restarts). Same answers as the Redis view (shared rollup code).
 *
 * Lifecycle: construct (loads the file when given), upsert/read freely, `close()` is idempotent.
 */
import Database from 'better-sqlite3';
import { LogFlowError } from '../../common/errors.ts';
import { planRange, rollupSeries, type ServiceTotals, totalsByService } from './rollup.ts';
import type { MetricPoint, MetricResolution, MetricsView, MetricWindow } from './types.ts';
import { RESOLUTION_MS, RESOLUTION_RETENTION_MS } from './windows.ts';

export interface MemoryMetricsViewOptions {
  /** SQLite file to persist windows in; memory only when absent. */
  file?: string;
  /** Clock for retention (tests pass virtual time). */
  now?: () => number;
}

type Series = Map<number, MetricWindow>;

export class MemoryMetricsView implements MetricsView {
  readonly kind = 'memory' as const;
  private readonly data: Record<MetricResolution, Map<string, Series>> = { '1m': new Map(), '1h': new Map() };
  private readonly db: Database.Database | null;
  private readonly now: () => number;
  private upsertsSincePrune = 0;
  private closed = false;

  constructor(options: MemoryMetricsViewOptions = {}) {
    this.now = options.now ?? Date.now;
    this.db = options.file ? openFile(options.file) : null;
    if (this.db) {
      for (const row of this.db.prepare('SELECT * FROM metric_windows').iterate() as Iterable<WindowRow>) {
        this.apply(fromRow(row));
      }
    }
  }

  async upsert(windows: MetricWindow[]): Promise<void> {
    const changed = windows.filter((w) => this.apply(w));
    if (this.db && changed.length > 0) {
      const stmt = this.db.prepare(
        `INSERT INTO metric_windows (resolution, service, window_start, window_end, counts, total, version)
         VALUES (@resolution, @service, @window_start, @window_end, @counts, @total, @version)
         ON CONFLICT (resolution, service, window_start) DO UPDATE SET
           counts = excluded.counts, total = excluded.total, version = excluded.version
         WHERE excluded.version > metric_windows.version`,
      );
      this.db.transaction(() => {
        for (const w of changed) stmt.run(toRow(w));
      })();
    }
    this.upsertsSincePrune += windows.length;
    if (this.upsertsSincePrune >= 10_000) this.prune();
  }

  async series(from: number, to: number, bucketMs: number, service?: string): Promise<MetricPoint[]> {
    const plan = planRange(from, to, bucketMs, this.now());
    return rollupSeries(this.windowsIn(plan.resolution, plan.fromWindow, to, service), plan);
  }

  async byService(from: number, to: number): Promise<ServiceTotals> {
    return totalsByService(from, to, this.now(), await this.services(), async (ranges) =>
      ranges.map((r) => [...this.windowsIn(r.resolution, r.from, r.to, r.service)]),
    );
  }

  async services(): Promise<string[]> {
    return [...new Set([...this.data['1m'].keys(), ...this.data['1h'].keys()])].sort();
  }

  async clear(): Promise<void> {
    this.data['1m'].clear();
    this.data['1h'].clear();
    this.db?.exec('DELETE FROM metric_windows');
  }

  async ping(): Promise<boolean> {
    return !this.closed;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db?.close();
  }

  /** Drops windows past their resolution's retention (memory stays bounded). */
  prune(): void {
    this.upsertsSincePrune = 0;
    const now = this.now();
    for (const resolution of ['1m', '1h'] as const) {
      const cutoff = now - RESOLUTION_RETENTION_MS[resolution];
      for (const [service, series] of this.data[resolution]) {
        for (const start of series.keys()) if (start < cutoff) series.delete(start);
        if (series.size === 0) this.data[resolution].delete(service);
      }
      this.db
        ?.prepare('DELETE FROM metric_windows WHERE resolution = ? AND window_start < ?')
        .run(resolution, cutoff);
    }
  }

  private apply(w: MetricWindow): boolean {
    const resolution = w.resolution ?? '1m';
    if (w.window_start < this.now() - RESOLUTION_RETENTION_MS[resolution]) return false;
    let series = this.data[resolution].get(w.service);
    if (!series) {
      series = new Map();
      this.data[resolution].set(w.service, series);
    }
    const current = series.get(w.window_start);
    if (current && current.version >= w.version) return false;
    series.set(w.window_start, { ...w, resolution });
    return true;
  }

  private *windowsIn(
    resolution: MetricResolution,
    from: number,
    to: number,
    service?: string,
  ): Iterable<MetricWindow> {
    const services = service !== undefined ? [service] : [...this.data[resolution].keys()];
    const size = RESOLUTION_MS[resolution];
    for (const name of services) {
      const series = this.data[resolution].get(name);
      if (!series) continue;
      if ((to - from) / size < series.size) {
        // Fewer window starts in the range than windows kept: look them up (windows are
        // aligned to epoch multiples of their size).
        for (let start = Math.ceil(from / size) * size; start < to; start += size) {
          const w = series.get(start);
          if (w) yield w;
        }
      } else {
        for (const w of series.values()) if (w.window_start >= from && w.window_start < to) yield w;
      }
    }
  }
}

interface WindowRow {
  resolution: MetricResolution;
  service: string;
  window_start: number;
  window_end: number;
  counts: string;
  total: number;
  version: number;
}

function toRow(w: MetricWindow): WindowRow {
  return {
    resolution: w.resolution ?? '1m',
    service: w.service,
    window_start: w.window_start,
    window_end: w.window_end,
    counts: JSON.stringify(w.counts),
    total: w.total,
    version: w.version,
  };
}

function fromRow(row: WindowRow): MetricWindow {
  const counts = JSON.parse(row.counts) as Record<string, number>;
  return {
    service: row.service,
    window_start: row.window_start,
    window_end: row.window_end,
    counts,
    total: row.total,
    error_rate: row.total ? ((counts.ERROR ?? 0) + (counts.FATAL ?? 0)) / row.total : 0,
    version: row.version,
    resolution: row.resolution,
  };
}

function openFile(file: string): Database.Database {
  try {
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.exec(`CREATE TABLE IF NOT EXISTS metric_windows (
      resolution TEXT NOT NULL, service TEXT NOT NULL, window_start INTEGER NOT NULL,
      window_end INTEGER NOT NULL, counts TEXT NOT NULL, total INTEGER NOT NULL, version INTEGER NOT NULL,
      PRIMARY KEY (resolution, service, window_start))`);
    return db;
  } catch (err) {
    throw new LogFlowError('LF_ERR_STATE_STORE', `Cannot open the metrics file ${file}`, { cause: err });
  }
}
