import type { Aggregator, Initializer } from '../stages/aggregate.ts';
import type { Windowed } from '../windows/windowed.ts';
import type { KGroupedStream } from './kgrouped-stream.ts';
import type { KTable } from './ktable.ts';
import { LongSerde } from './long-serde.ts';
import { EmitStrategy, Materialized } from './params.ts';

/**
 * What every windowed grouped stream shares (time windows, sliding windows): the emit strategy and
 * count/reduce expressed through the one `aggregate` each window kind implements.
 */
export abstract class WindowedKStreamBase<K, V> {
  protected emit: EmitStrategy = EmitStrategy.onWindowUpdate();

  /** @internal */
  constructor(protected readonly grouped: KGroupedStream<K, V>) {}

  /** Emit on every update (default) or only final results when windows close. */
  emitStrategy(strategy: EmitStrategy): this {
    this.emit = strategy;
    return this;
  }

  count(materialized: Materialized<K, number> = Materialized.with<K, number>()): KTable<Windowed<K>, number> {
    return this.aggregate<number>(
      () => 0,
      (_k, _v, n) => n + 1,
      materialized.valueSerde ? materialized : materialized.withValueSerde(new LongSerde()),
      'COUNT',
    );
  }

  reduce(
    reducer: (aggregate: V, value: V) => V,
    materialized: Materialized<K, V> = Materialized.with<K, V>(),
  ): KTable<Windowed<K>, V> {
    const valueSerde = this.grouped.valueSerde;
    const m = materialized.valueSerde || !valueSerde ? materialized : materialized.withValueSerde(valueSerde);
    return this.aggregate<V>(
      () => undefined as unknown as V,
      (_k, v, agg) => (agg === undefined ? v : reducer(agg, v)),
      m,
      'REDUCE',
    );
  }

  abstract aggregate<VA>(
    initializer: Initializer<VA>,
    aggregator: Aggregator<K, V, VA>,
    materialized?: Materialized<K, VA>,
    op?: string,
  ): KTable<Windowed<K>, VA>;
}
