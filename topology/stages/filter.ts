import type { StreamRecord } from '../record.ts';
import type { Stage } from '../stage.ts';
import { perRecord } from './per-record.ts';

/** Keeps the records the predicate accepts (or rejects, with `negate`). */
export function filterStage<K, V>(
  predicate: (key: K, value: V, record: StreamRecord<K, V>) => boolean,
  negate = false,
): Stage<K, V, K, V> {
  return (ctx) =>
    perRecord(ctx, (r, emit) => {
      if (Boolean(predicate(r.key, r.value, r)) !== negate) emit(r);
    });
}
