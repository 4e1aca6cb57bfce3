import type { StreamRecord } from '../record.ts';
import type { Stage } from '../stage.ts';
import type { KeyValueStore } from '../stores/state-store.ts';
import { perRecord } from './per-record.ts';

export type Initializer<VA> = () => VA;
export type Aggregator<K, V, VA> = (key: K, value: V, aggregate: VA) => VA;

/**
 * A running aggregate per key in a key-value store; emits the new aggregate on every update (the
 * KTable's changelog stream). Records with a null key are dropped, as in Kafka Streams, since
 * they cannot be grouped.
 */
export function aggregateStage<K, V, VA>(
  storeName: string,
  initializer: Initializer<VA>,
  aggregator: Aggregator<K, V, VA>,
): Stage<K, V, K, VA> {
  return (ctx) => {
    const store = ctx.getStateStore<KeyValueStore<K, VA>>(storeName);
    return perRecord(ctx, (r, emit) => {
      if (r.key === null || r.key === undefined) return;
      const current = store.get(r.key);
      const next = aggregator(r.key, r.value, current === undefined ? initializer() : current);
      store.put(r.key, next);
      emit({ ...r, value: next } as unknown as StreamRecord<K, VA>);
    });
  };
}

/** `reduce`: the first value of a key is its aggregate; later ones are combined with `reducer`. */
export function reduceStage<K, V>(
  storeName: string,
  reducer: (aggregate: V, value: V) => V,
): Stage<K, V, K, V> {
  return (ctx) => {
    const store = ctx.getStateStore<KeyValueStore<K, V>>(storeName);
    return perRecord(ctx, (r, emit) => {
      if (r.key === null || r.key === undefined) return;
      const current = store.get(r.key);
      const next = current === undefined ? r.value : reducer(current, r.value);
      store.put(r.key, next);
      emit({ ...r, value: next });
    });
  };
}
