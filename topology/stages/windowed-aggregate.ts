import { Observable } from 'rxjs';
import type { StreamRecord } from '../record.ts';
import type { Stage } from '../stage.ts';
import type { InMemoryWindowStore } from '../stores/in-memory-window-store.ts';
import { storeKeyId } from '../stores/store-key.ts';
import type { TimeWindows } from '../windows/time-windows.ts';
import type { Windowed } from '../windows/windowed.ts';
import type { Aggregator, Initializer } from './aggregate.ts';

/** Mutable so `KTable.suppress()` can switch an aggregation to final-only after the fact. */
export interface EmitConfig {
  mode: 'onWindowUpdate' | 'onWindowClose';
}

/**
 * A windowed aggregate on event time. Each record updates every window containing its timestamp
 * (one for tumbling, size/advance for hopping) unless that window is closed — window end + grace
 * ≤ stream time — in which case the record is late for it: when it is late for all its windows
 * it is dropped and reported through `ctx.reportLate`.
 *
 * Emission: `onWindowUpdate` emits the latest aggregate of each updated window once per flush
 * (per batch on the runtime — a record cache, as Kafka Streams has — and so per record in the
 * test driver); `onWindowClose` emits each window once, when stream time passes its end + grace. Windows that started
 * `retention` (≥ size + grace) before stream time are expired from the store.
 *
 * After a restore (crash or rebalance), windows still open at the restored stream time are
 * pending again (emitted once the next records close them, however far they move stream time);
 * windows closed at it were emitted before. Under exactly-once the restored stream time is the
 * one committed with those emissions, so a final result is emitted exactly once; at-least-once
 * may emit one again after a crash (its output and the changelog are not atomic).
 */
export function windowedAggregateStage<K, V, VA>(
  storeName: string,
  windows: TimeWindows,
  initializer: Initializer<VA>,
  aggregator: Aggregator<K, V, VA>,
  emitConfig: EmitConfig,
): Stage<K, V, Windowed<K>, VA> {
  return (ctx) => (source) =>
    new Observable<StreamRecord<Windowed<K>, VA>>((subscriber) => {
      const store = ctx.getStateStore<InMemoryWindowStore<K, VA>>(storeName);
      const size = windows.sizeMs;
      const grace = windows.graceMs;
      const finalOnly = () => emitConfig.mode === 'onWindowClose';
      // Final-only bookkeeping: window end → (key id → key) of windows not yet emitted.
      const pending = new Map<number, Map<unknown, K>>();
      let pendingEnds: number[] = [];
      let lastExpiry = Number.NEGATIVE_INFINITY;
      // Update mode: per window start, the latest record and aggregate of each key updated since
      // the last flush (the aggregate is kept here: the window may expire from the store first).
      let updated = new Map<number, Map<unknown, [StreamRecord<K, V>, VA]>>();
      ctx.onFlush(() => {
        if (updated.size === 0) return;
        const out = updated;
        updated = new Map();
        for (const [start, records] of out) {
          const window = { start, end: start + size };
          for (const [r, value] of records.values())
            subscriber.next({ ...r, key: { key: r.key, window }, value });
        }
      });

      const addPending = (end: number, key: K) => {
        let keys = pending.get(end);
        if (!keys) {
          keys = new Map();
          pending.set(end, keys);
          pendingEnds.push(end);
          if (pendingEnds.length > 1 && pendingEnds[pendingEnds.length - 2] > end)
            pendingEnds.sort((a, b) => a - b);
        }
        keys.set(storeKeyId(key), key);
      };

      // After a restore the pending set is rebuilt from the store at the RESTORED stream time
      // (persisted with the changelog, in the same transaction as the output under exactly-once):
      // a window still open then was not emitted yet, even when the first new record jumps stream
      // time past its close; a window closed then was emitted before, so it is not pending. The
      // set is cleared first: a kept task catching up may hold windows another instance emitted.
      ctx.onRestored((streamTime) => {
        pending.clear();
        pendingEnds = [];
        if (!finalOnly()) return;
        for (const { key, windowStart } of store.all()) {
          if (windowStart + size + grace > streamTime) addPending(windowStart + size, key);
        }
      });

      const emitClosed = (streamTime: number, template: StreamRecord<unknown, unknown>) => {
        let i = 0;
        while (i < pendingEnds.length && pendingEnds[i] + grace <= streamTime) {
          const end = pendingEnds[i++];
          const keys = pending.get(end)!;
          pending.delete(end);
          const start = end - size;
          for (const key of keys.values()) {
            const value = store.fetch(key, start);
            if (value === undefined) continue;
            subscriber.next({
              key: { key, window: { start, end } },
              value,
              timestamp: end - 1,
              headers: {},
              topic: template.topic,
              partition: template.partition,
              offset: template.offset,
            });
          }
        }
        if (i > 0) pendingEnds = pendingEnds.slice(i);
      };

      return source.subscribe({
        next(r) {
          const streamTime = ctx.streamTime();
          try {
            if (r.key !== null && r.key !== undefined) {
              let accepted = 0;
              let late = 0;
              const starts =
                windows.advanceMs === size
                  ? tumblingStart(r.timestamp, size)
                  : windows.windowStartsFor(r.timestamp);
              for (const start of starts) {
                const end = start + size;
                if (end + grace <= streamTime) {
                  late++;
                  continue;
                }
                accepted++;
                const current = store.fetch(r.key, start);
                const next = aggregator(r.key, r.value, current === undefined ? initializer() : current);
                store.put(r.key, start, next);
                if (finalOnly()) addPending(end, r.key);
                else {
                  let records = updated.get(start);
                  if (!records) {
                    records = new Map();
                    updated.set(start, records);
                  }
                  // Re-inserting moves the key to the end: emission follows the latest update order.
                  const id = storeKeyId(r.key);
                  records.delete(id);
                  records.set(id, [r, next]);
                }
              }
              if (late > 0 && accepted === 0) ctx.reportLate(r as StreamRecord<unknown, unknown>);
            }
          } catch (err) {
            ctx.reportError(err, r as StreamRecord<unknown, unknown>);
          }
          if (streamTime > lastExpiry) {
            lastExpiry = streamTime;
            if (finalOnly()) emitClosed(streamTime, r as StreamRecord<unknown, unknown>);
            store.expire(streamTime);
          }
        },
        error: (err) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
    });
}

const NO_WINDOWS: number[] = [];
const scratch = [0];
/** The one tumbling window of a timestamp, without allocating (negative starts have none). */
function tumblingStart(timestamp: number, size: number): number[] {
  const start = Math.floor(timestamp / size) * size;
  if (start < 0) return NO_WINDOWS;
  scratch[0] = start;
  return scratch;
}
