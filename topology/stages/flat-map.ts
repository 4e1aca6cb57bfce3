import type { StreamRecord } from '../record.ts';
import type { Stage } from '../stage.ts';
import type { KeyValue } from './map.ts';
import { perRecord } from './per-record.ts';

/** Zero or more records per record, each with its own key. */
export function flatMapStage<K, V, K2, V2>(
  fn: (key: K, value: V, record: StreamRecord<K, V>) => Iterable<KeyValue<K2, V2>>,
): Stage<K, V, K2, V2> {
  return (ctx) =>
    perRecord(ctx, (r, emit) => {
      // Collect first so a throw half-way emits nothing (all or nothing per record).
      const out = [...fn(r.key, r.value, r)];
      for (const [key, value] of out) emit({ ...r, key, value } as unknown as StreamRecord<K2, V2>);
    });
}

/** Zero or more values per record, key unchanged. */
export function flatMapValuesStage<K, V, V2>(
  fn: (value: V, key: K, record: StreamRecord<K, V>) => Iterable<V2>,
): Stage<K, V, K, V2> {
  return (ctx) =>
    perRecord(ctx, (r, emit) => {
      const out = [...fn(r.value, r.key, r)];
      for (const value of out) emit({ ...r, value } as unknown as StreamRecord<K, V2>);
    });
}
