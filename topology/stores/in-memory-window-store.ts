import type { WindowStore, WindowStoreEntry } from './state-store.ts';
import { storeKeyId } from './store-key.ts';

interface KeyWindows<K, V> {
  key: K;
  windows: Map<number, V>;
}

/**
 * Windows keyed by (key, windowStart), with an index by window start so expiry (dropping every
 * window that started `retentionMs` or more before stream time) touches only expired windows.
 * Dirty (key, start) pairs become changelog records at each commit, like the key-value store.
 */
export class InMemoryWindowStore<K, V> implements WindowStore<K, V> {
  private readonly byKey = new Map<unknown, KeyWindows<K, V>>();
  private readonly byStart = new Map<number, Set<unknown>>();
  /** Distinct window starts, ascending. Few in practice (aligned windows), so a sorted array is enough. */
  private starts: number[] = [];
  private dirty = new Map<unknown, { key: K; starts: Set<number> }>();
  private count = 0;

  constructor(
    readonly name: string,
    readonly windowSizeMs: number,
    readonly retentionMs: number,
    readonly logging: boolean,
  ) {}

  put(key: K, windowStart: number, value: V): void {
    const id = storeKeyId(key);
    this.write(id, key, windowStart, value);
    if (this.logging) this.markDirty(id, key, windowStart);
  }

  private write(id: unknown, key: K, windowStart: number, value: V): void {
    let entry = this.byKey.get(id);
    if (!entry) {
      entry = { key, windows: new Map() };
      this.byKey.set(id, entry);
    }
    if (!entry.windows.has(windowStart)) {
      this.count++;
      let ids = this.byStart.get(windowStart);
      if (!ids) {
        ids = new Set();
        this.byStart.set(windowStart, ids);
        this.insertStart(windowStart);
      }
      ids.add(id);
    }
    entry.windows.set(windowStart, value);
  }

  fetch(key: K, windowStart: number): V | undefined {
    return this.byKey.get(storeKeyId(key))?.windows.get(windowStart);
  }

  fetchRange(key: K, fromStart: number, toStart: number): Array<{ windowStart: number; value: V }> {
    const entry = this.byKey.get(storeKeyId(key));
    if (!entry) return [];
    const out: Array<{ windowStart: number; value: V }> = [];
    for (const [windowStart, value] of entry.windows) {
      if (windowStart >= fromStart && windowStart <= toStart) out.push({ windowStart, value });
    }
    return out.sort((a, b) => a.windowStart - b.windowStart);
  }

  delete(key: K, windowStart: number): void {
    const id = storeKeyId(key);
    if (this.remove(id, windowStart) && this.logging) this.markDirty(id, key, windowStart);
  }

  *all(): IterableIterator<WindowStoreEntry<K, V>> {
    for (const { key, windows } of this.byKey.values()) {
      for (const [windowStart, value] of windows) yield { key, windowStart, value };
    }
  }

  approximateNumEntries(): number {
    return this.count;
  }

  /**
   * Drops every window with start + retention ≤ streamTime. No changelog tombstones: restore
   * expires the same windows again from the restored stream time, and compaction keeps the
   * changelog bounded by the live windows plus expired keys it has not yet been told about.
   */
  expire(streamTime: number): void {
    const limit = streamTime - this.retentionMs;
    while (this.starts.length > 0 && this.starts[0] <= limit) {
      const start = this.starts.shift()!;
      const ids = this.byStart.get(start);
      this.byStart.delete(start);
      if (!ids) continue;
      for (const id of ids) {
        const entry = this.byKey.get(id);
        if (!entry) continue;
        if (entry.windows.delete(start)) this.count--;
        if (entry.windows.size === 0) this.byKey.delete(id);
        const d = this.dirty.get(id);
        if (d) d.starts.delete(start);
      }
    }
  }

  /** @internal (key, start, value or undefined when deleted) written since the last call. */
  takeDirty(): Array<[K, number, V | undefined]> {
    if (this.dirty.size === 0) return [];
    const out: Array<[K, number, V | undefined]> = [];
    for (const [id, { key, starts }] of this.dirty) {
      const windows = this.byKey.get(id)?.windows;
      for (const start of starts) out.push([key, start, windows?.get(start)]);
    }
    this.dirty = new Map();
    return out;
  }

  /** @internal Applies one changelog record during restore. */
  restore(key: K, windowStart: number, value: V | null): void {
    if (value === null || value === undefined) {
      this.remove(storeKeyId(key), windowStart);
      return;
    }
    this.write(storeKeyId(key), key, windowStart, value);
  }

  private markDirty(id: unknown, key: K, windowStart: number): void {
    let d = this.dirty.get(id);
    if (!d) {
      d = { key, starts: new Set() };
      this.dirty.set(id, d);
    }
    d.starts.add(windowStart);
  }

  private remove(id: unknown, windowStart: number): boolean {
    const entry = this.byKey.get(id);
    if (!entry?.windows.delete(windowStart)) return false;
    this.count--;
    if (entry.windows.size === 0) this.byKey.delete(id);
    this.byStart.get(windowStart)?.delete(id);
    return true;
  }

  private insertStart(start: number): void {
    const s = this.starts;
    if (s.length === 0 || s[s.length - 1] < start) {
      s.push(start);
      return;
    }
    let lo = 0;
    let hi = s.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (s[mid] < start) lo = mid + 1;
      else hi = mid;
    }
    s.splice(lo, 0, start);
  }
}
