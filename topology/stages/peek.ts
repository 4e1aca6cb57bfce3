import type { StreamRecord } from '../record.ts';
import type { Stage } from '../stage.ts';
import { perRecord } from './per-record.ts';

/** Calls `fn` for its side effect and passes every record on unchanged (also when `fn` throws). */
export function peekStage<K, V>(
  fn: (key: K, value: V, record: StreamRecord<K, V>) => void,
): Stage<K, V, K, V> {
  return (ctx) =>
    perRecord(ctx, (r, emit) => {
      try {
        fn(r.key, r.value, r);
      } catch (err) {
        ctx.reportError(err, r as StreamRecord<unknown, unknown>);
      }
      emit(r);
    });
}
