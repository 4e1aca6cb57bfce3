import { Observable } from 'rxjs';
import type { StreamRecord } from '../record.ts';
import type { Stage } from '../stage.ts';
import type { KeyValueStore } from '../stores/state-store.ts';

/** Combines a stream record's value with the table's value for its key (null for a left join miss). */
export type ValueJoiner<K, V, VT, VR> = (value: V, tableValue: VT, key: K) => VR;

/**
 * Materialises a table from its topic's records: the latest value per key, a null value (a
 * tombstone) deleting the key. Every update is forwarded, so `table.toStream()` sees them.
 * Records with a null key cannot be stored and are dropped.
 */
export function tableSourceStage<K, V>(storeName: string): Stage<K, V, K, V> {
  return (ctx) => (source) =>
    new Observable<StreamRecord<K, V>>((subscriber) => {
      const store = ctx.getStateStore<KeyValueStore<K, V>>(storeName);
      return source.subscribe({
        next(r) {
          if (r.key === null || r.key === undefined) return;
          try {
            if (r.value === null || r.value === undefined) store.delete(r.key);
            else store.put(r.key, r.value);
          } catch (err) {
            ctx.reportError(err, r as StreamRecord<unknown, unknown>);
            return;
          }
          subscriber.next(r);
        },
        error: (err) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
    });
}

/**
 * A KStream–KTable join: each stream record is joined with the table's current value for its
 * key (a lookup, not a window: later table updates do not revisit earlier stream records, and
 * table updates emit nothing). An inner join drops stream records whose key is absent from the
 * table; a left join calls the joiner with null instead. A stream record with a null key has no
 * table row: dropped by `join`, joined with null by `leftJoin` (as Kafka Streams since KIP-962).
 */
export function streamTableJoinStage<K, V, VT, VR>(
  storeName: string,
  joiner: ValueJoiner<K, V, VT, VR>,
  left: boolean,
): Stage<K, V, K, VR> {
  return (ctx) => (source) =>
    new Observable<StreamRecord<K, VR>>((subscriber) => {
      const store = ctx.getStateStore<KeyValueStore<K, VT>>(storeName);
      return source.subscribe({
        next(r) {
          let out: VR;
          try {
            const tableValue = r.key === null || r.key === undefined ? undefined : store.get(r.key);
            if (tableValue === undefined && !left) return;
            out = joiner(r.value, (tableValue ?? null) as VT, r.key);
          } catch (err) {
            ctx.reportError(err, r as StreamRecord<unknown, unknown>);
            return;
          }
          subscriber.next({ ...r, value: out });
        },
        error: (err) => subscriber.error(err),
        complete: () => subscriber.complete(),
      });
    });
}
