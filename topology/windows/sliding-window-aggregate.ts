import { Observable } from 'rxjs';
import type { StreamRecord } from '../record.ts';
import type { Serde } from '../serde.ts';
import type { Stage } from '../stage.ts';
import type { Aggregator, Initializer } from '../stages/aggregate.ts';
import type { EmitConfig } from '../stages/windowed-aggregate.ts';
import type { InMemoryWindowStore } from '../stores/in-memory-window-store.ts';
import { storeKeyId } from '../stores/store-key.ts';
import type { SlidingWindows } from './sliding-windows.ts';
import type { Windowed } from './windowed.ts';

/** A stored window near the record being processed: its aggregate and its latest record time. */
interface Near<VA> {
  start: number;
  value: VA;
  maxTs: number;
}

/**
 * A sliding-window aggregate (KIP-450's algorithm). Aggregates cannot be subtracted, so a new
 * window is never computed by removing records: it is derived from a stored window that holds
 * exactly the same earlier records, plus the new one. That works because every window of every
 * accepted record within retention is in the store, each with the timestamp of its latest
 * record (kept in the companion store `timestampStore`, so the aggregate store holds plain
 * values, like a time-windowed one):
 * - the record's left window [t − d, t] holds what the latest window ending before t holds
 *   (when the previous record is within d), plus the record;
 * - its right window [t + 1, t + 1 + d] holds what the latest-starting window containing t held
 *   before the record (when that window has a record after t); it does not hold the record;
 * - the previous record's right window, if missing, now holds just this record;
 * - every existing window containing t gets the record.
 * Records before d (whose left window would start below 0) share the window [0, d].
 *
 * Unlike Kafka Streams, windows that are already closed are still updated in the store (never
 * emitted again): a record late for its own left window but not for later windows then still
 * counts in the windows derived from that left window afterwards, so every window's aggregate is
 * exactly its records that arrived before it closed.
 *
 * Emission is as for time windows: `onWindowUpdate` emits each updated open window's latest
 * value once per flush; `onWindowClose` emits each window once, when stream time passes
 * end + grace. Output timestamps are the window's latest record time.
 */
export function slidingWindowAggregateStage<K, V, VA>(
  storeName: string,
  timestampStoreName: string,
  windows: SlidingWindows,
  initializer: Initializer<VA>,
  aggregator: Aggregator<K, V, VA>,
  emitConfig: EmitConfig,
  valueSerde: Serde<VA> | undefined,
): Stage<K, V, Windowed<K>, VA> {
  const d = windows.timeDifferenceMs;
  const grace = windows.graceMs;
  const copy = valueCopier(valueSerde, storeName);
  return (ctx) => (source) =>
    new Observable<StreamRecord<Windowed<K>, VA>>((subscriber) => {
      const aggregates = ctx.getStateStore<InMemoryWindowStore<K, VA>>(storeName);
      const latest = ctx.getStateStore<InMemoryWindowStore<K, number>>(timestampStoreName);
      const finalOnly = () => emitConfig.mode === 'onWindowClose';
      // Final-only: window end → (key id → key) of open windows not yet emitted.
      const pending = new Map<number, Map<unknown, K>>();
      let pendingEnds: number[] = [];
      let lastExpiry = Number.NEGATIVE_INFINITY;
      // Update mode: window start → key id → the latest update since the last flush.
      let updated = new Map<number, Map<unknown, { r: StreamRecord<K, V>; value: VA; maxTs: number }>>();

      ctx.onFlush(() => {
        if (updated.size === 0) return;
        const out = updated;
        updated = new Map();
        for (const [start, byKey] of out) {
          const window = { start, end: start + d };
          for (const { r, value, maxTs } of byKey.values())
            subscriber.next({ ...r, key: { key: r.key, window }, value, timestamp: maxTs });
        }
      });

      const addPending = (end: number, key: K) => {
        let keys = pending.get(end);
        if (!keys) {
          keys = new Map();
          pending.set(end, keys);
          insertSorted(pendingEnds, end);
        }
        keys.set(storeKeyId(key), key);
      };

      // After a restore: windows still open at the restored stream time are pending again, however
      // far the first new record moves stream time; windows closed at it were emitted before (see
      // windowedAggregateStage). Cleared first: a kept task catching up may hold stale entries.
      ctx.onRestored((streamTime) => {
        pending.clear();
        pendingEnds = [];
        if (!finalOnly()) return;
        for (const { key, windowStart } of aggregates.all()) {
          if (windowStart + d + grace >= streamTime) addPending(windowStart + d, key);
        }
      });

      const emitClosed = (streamTime: number, template: StreamRecord<unknown, unknown>) => {
        let i = 0;
        while (i < pendingEnds.length && pendingEnds[i] + grace < streamTime) {
          const end = pendingEnds[i++];
          const keys = pending.get(end)!;
          pending.delete(end);
          const start = end - d;
          for (const key of keys.values()) {
            const value = aggregates.fetch(key, start);
            if (value === undefined) continue;
            subscriber.next({
              key: { key, window: { start, end } },
              value,
              timestamp: latest.fetch(key, start) ?? end,
              headers: {},
              topic: template.topic,
              partition: template.partition,
              offset: template.offset,
            });
          }
        }
        if (i > 0) pendingEnds = pendingEnds.slice(i);
      };

      /** The stored windows of `key` starting in [from, to], oldest first. */
      const near = (key: K, from: number, to: number): Array<Near<VA>> => {
        const out: Array<Near<VA>> = [];
        for (const { windowStart, value } of aggregates.fetchRange(key, from, to)) {
          const maxTs = latest.fetch(key, windowStart);
          if (maxTs !== undefined) out.push({ start: windowStart, value, maxTs });
        }
        return out;
      };

      const process = (r: StreamRecord<K, V>, streamTime: number) => {
        const key = r.key;
        const t = r.timestamp;
        const closeTime = streamTime - grace;
        if (t + d < closeTime) {
          // Every window that could hold the record (the last ends at t + d) is closed.
          ctx.reportLate(r as StreamRecord<unknown, unknown>);
          return;
        }
        const write = (start: number, value: VA, maxTs: number) => {
          aggregates.put(key, start, value);
          latest.put(key, start, maxTs);
          if (start + d < closeTime) return; // closed: kept current for derivations, never re-emitted
          if (finalOnly()) {
            addPending(start + d, key);
            return;
          }
          let byKey = updated.get(start);
          if (!byKey) {
            byKey = new Map();
            updated.set(start, byKey);
          }
          const id = storeKeyId(key);
          byKey.delete(id); // re-inserted last: emission follows the latest update order
          byKey.set(id, { r, value, maxTs });
        };
        const add = (w: Near<VA>) => write(w.start, aggregator(key, r.value, w.value), Math.max(w.maxTs, t));
        const create = (start: number, from?: VA) =>
          write(start, aggregator(key, r.value, from === undefined ? initializer() : from), t);

        if (t < d) {
          // Early record: its left window would start below 0; it goes into [0, d] instead.
          let combined: Near<VA> | undefined;
          let right: Near<VA> | undefined;
          let rightExists = false;
          let previous: number | undefined;
          const starts = new Set<number>();
          const containing: Array<Near<VA>> = [];
          for (const w of near(key, 0, t + 1)) {
            starts.add(w.start);
            if (w.start === 0) {
              combined = w;
              if (w.maxTs < t) previous = w.maxTs;
            } else if (w.start <= t) {
              right = w;
              containing.push(w);
            } else rightExists = true;
          }
          // Without a later-starting window, [0, d] holds only records after t if it holds any.
          if (!right && combined && combined.maxTs > t) right = combined;
          // Copied before any update: t's right window must not hold t.
          if (!rightExists && right && right.maxTs > t) write(t + 1, copy(right.value), right.maxTs);
          for (const w of containing) add(w);
          if (previous !== undefined && !starts.has(previous + 1)) create(previous + 1);
          if (combined) add(combined);
          else create(0);
          return;
        }

        let left: Near<VA> | undefined;
        let right: Near<VA> | undefined;
        let leftExists = false;
        let rightExists = false;
        let previous: number | undefined;
        const starts = new Set<number>();
        const containing: Array<Near<VA>> = [];
        for (const w of near(key, Math.max(0, t - 2 * d), t + 1)) {
          starts.add(w.start);
          const end = w.start + d;
          if (end < t) {
            left = w;
            previous = w.maxTs;
          } else if (end === t) {
            leftExists = true;
            if (w.maxTs < t) previous = w.maxTs;
            containing.push(w);
          } else if (w.start <= t) {
            right = w;
            containing.push(w);
          } else rightExists = true;
        }
        // Copied before any update: t's right window must not hold t.
        if (!rightExists && right && right.maxTs > t) write(t + 1, copy(right.value), right.maxTs);
        for (const w of containing) add(w);
        if (previous !== undefined && !starts.has(previous + 1) && previous + 1 + d >= t) {
          create(previous + 1);
          if (previous + 1 === t - d) leftExists = true; // that right window is also t's left window
        }
        if (!leftExists) {
          // The latest window ending before t holds exactly the records of [t - d, t) when the
          // previous record is within d; otherwise t's left window holds only t.
          const earlier = previous !== undefined && previous >= t - d && left ? copy(left.value) : undefined;
          create(t - d, earlier);
        }
      };

      return source.subscribe({
        next(r) {
          const streamTime = ctx.streamTime();
          try {
            if (r.key !== null && r.key !== undefined && r.timestamp >= 0) process(r, streamTime);
          } catch (err) {
            ctx.reportError(err, r as StreamRecord<unknown, unknown>);
          }
          if (streamTime > lastExpiry) {
            lastExpiry = streamTime;
            if (finalOnly()) emitClosed(streamTime, r as StreamRecord<unknown, unknown>);
            aggregates.expire(streamTime);
            latest.expire(streamTime);
          }
        },
        error: (err) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
    });
}

/**
 * Deriving a window from another must not share the aggregate object (an aggregator that mutates
 * its argument would change both windows): primitives are used as they are, objects are copied
 * through the value serde when it is synchronous, else with structuredClone.
 */
function valueCopier<VA>(serde: Serde<VA> | undefined, storeName: string): (value: VA) => VA {
  return (value) => {
    if (value === null || typeof value !== 'object') return value;
    if (serde) {
      const bytes = serde.serialize(storeName, value);
      if (!(bytes instanceof Promise)) {
        const back = serde.deserialize(storeName, bytes);
        if (!(back instanceof Promise)) return back;
      }
    }
    return structuredClone(value);
  };
}

function insertSorted(list: number[], value: number): void {
  if (list.length === 0 || list[list.length - 1] < value) {
    list.push(value);
    return;
  }
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  list.splice(lo, 0, value);
}
