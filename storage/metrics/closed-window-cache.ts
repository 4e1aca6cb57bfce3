/**
 * The Redis view's memory of closed 1m windows. A chart of 24 h at 5m buckets needs every 1m
 * window of the day (1,440 per service): reading and decoding them from Redis on each request
 * costs ~10-20 ms, yet all but the last minutes can no longer change. Windows far enough behind
 * the newest window the view holds for their service are final, and are kept here decoded, so a
 * request reads from Redis only what is newer.
 *
 * Why "far enough behind" means final: the aggregate stage updates a window only until its
 * stream time passes the window's end plus the grace (15 min by default), and its updates of a
 * service go through one partition of logs-metrics in order; so once the view holds a window
 * starting `closedAfterMs` (default 1 h, past the end plus the grace) after another, the older
 * one was written for the last time. A rebuild of the view (a new materialised marker) empties
 * the cache; so does clear().
 */
import type { MetricWindow } from './types.ts';

interface Entry {
  /** Windows with window_start in [from, upTo) are all here, sorted by window_start. */
  from: number;
  upTo: number;
  windows: MetricWindow[];
}

export class ClosedWindowCache {
  private readonly entries = new Map<string, Entry>();
  private generation: string | null | undefined;

  /** Forgets everything when the view was rebuilt since the last call (its marker changed). */
  validate(generation: string | null): void {
    if (generation !== this.generation) this.clear();
    this.generation = generation;
  }

  clear(): void {
    this.entries.clear();
  }

  /** The cached windows of [from, to), and where reading from Redis must start. */
  lookup(key: string, from: number, to: number): { cached: MetricWindow[]; readFrom: number } {
    const entry = this.entries.get(key);
    if (!entry || entry.from > from || entry.upTo <= from) return { cached: [], readFrom: from };
    const end = Math.min(to, entry.upTo);
    const cached = entry.windows.filter((w) => w.window_start >= from && w.window_start < end);
    return { cached, readFrom: end };
  }

  /**
   * Keeps the windows just read for [readFrom, to) that are final (window_start < finalBefore),
   * extending the entry when the read continues it. `keepFrom` drops windows past retention.
   */
  store(
    key: string,
    readFrom: number,
    to: number,
    read: MetricWindow[],
    finalBefore: number,
    keepFrom: number,
  ): void {
    const upTo = Math.min(to, finalBefore);
    if (upTo <= readFrom) return;
    const final = read.filter((w) => w.window_start >= readFrom && w.window_start < upTo);
    final.sort((a, b) => a.window_start - b.window_start);
    const entry = this.entries.get(key);
    if (entry && entry.from <= readFrom && entry.upTo >= readFrom) {
      if (upTo <= entry.upTo) return;
      entry.windows = entry.windows.filter((w) => w.window_start < readFrom && w.window_start >= keepFrom);
      entry.windows.push(...final);
      entry.from = Math.max(entry.from, keepFrom);
      entry.upTo = upTo;
    } else {
      this.entries.set(key, { from: readFrom, upTo, windows: final });
    }
  }
}
