import type { StreamRecord } from '../record.ts';
import type { Stage } from '../stage.ts';
import { perRecord } from './per-record.ts';

/**
 * Branching in two stages: one `branch` stage evaluates the predicates once per record and tags
 * it with the index of the first that matches (records matching none are dropped unless there is
 * a default branch, index = predicates.length); one `branchChild` stage per branch passes the
 * records tagged with its index. Tags live in a WeakMap so records stay plain objects.
 */
export function branchStage<K, V>(
  predicates: Array<(key: K, value: V, record: StreamRecord<K, V>) => boolean>,
  hasDefault: boolean,
  tags: WeakMap<object, number>,
): Stage<K, V, K, V> {
  return (ctx) =>
    perRecord(ctx, (r, emit) => {
      for (let i = 0; i < predicates.length; i++) {
        if (predicates[i](r.key, r.value, r)) {
          tags.set(r, i);
          emit(r);
          return;
        }
      }
      if (hasDefault) {
        tags.set(r, predicates.length);
        emit(r);
      }
    });
}

export function branchChildStage<K, V>(index: number, tags: WeakMap<object, number>): Stage<K, V, K, V> {
  return (ctx) =>
    perRecord(ctx, (r, emit) => {
      if (tags.get(r) === index) emit(r);
    });
}
