import type { StreamRecord } from '../record.ts';
import type { Stage } from '../stage.ts';
import { perRecord } from './per-record.ts';

export type KeyValue<K, V> = [K, V];

/** New key and value per record (the key change makes a later grouping repartition). */
export function mapStage<K, V, K2, V2>(
  fn: (key: K, value: V, record: StreamRecord<K, V>) => KeyValue<K2, V2>,
): Stage<K, V, K2, V2> {
  return (ctx) =>
    perRecord(ctx, (r, emit) => {
      const [key, value] = fn(r.key, r.value, r);
      emit({ ...r, key, value } as unknown as StreamRecord<K2, V2>);
    });
}

/** New value per record; the key (and therefore the partitioning) is unchanged. */
export function mapValuesStage<K, V, V2>(
  fn: (value: V, key: K, record: StreamRecord<K, V>) => V2,
): Stage<K, V, K, V2> {
  return (ctx) =>
    perRecord(ctx, (r, emit) => {
      const value = fn(r.value, r.key, r);
      emit({ ...r, value } as unknown as StreamRecord<K, V2>);
    });
}

/** New key per record, value unchanged. */
export function selectKeyStage<K, V, K2>(
  fn: (key: K, value: V, record: StreamRecord<K, V>) => K2,
): Stage<K, V, K2, V> {
  return (ctx) =>
    perRecord(ctx, (r, emit) => {
      const key = fn(r.key, r.value, r);
      emit({ ...r, key } as unknown as StreamRecord<K2, V>);
    });
}
