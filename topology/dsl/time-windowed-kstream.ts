import type { Serde } from '../serde.ts';
import type { AnyStage } from '../stage.ts';
import type { Aggregator, Initializer } from '../stages/aggregate.ts';
import { type EmitConfig, windowedAggregateStage } from '../stages/windowed-aggregate.ts';
import type { TimeWindows } from '../windows/time-windows.ts';
import type { Windowed } from '../windows/windowed.ts';
import { TimeWindowedSerde } from '../windows/windowed-serde.ts';
import type { KGroupedStream } from './kgrouped-stream.ts';
import { KTable } from './ktable.ts';
import { Materialized } from './params.ts';
import { WindowedKStreamBase } from './windowed-kstream-base.ts';

/**
 * A grouped stream cut into event-time windows. Aggregations give a `KTable<Windowed<K>, VA>`
 * whose key serde is the time-windowed form of the grouping key serde.
 */
export class TimeWindowedKStream<K, V> extends WindowedKStreamBase<K, V> {
  /** @internal */
  constructor(
    grouped: KGroupedStream<K, V>,
    readonly windows: TimeWindows,
  ) {
    super(grouped);
  }

  aggregate<VA>(
    initializer: Initializer<VA>,
    aggregator: Aggregator<K, V, VA>,
    materialized: Materialized<K, VA> = Materialized.with<K, VA>(),
    op = 'AGGREGATE',
  ): KTable<Windowed<K>, VA> {
    const w = this.windows;
    const minRetention = w.sizeMs + w.graceMs;
    const retentionMs = Math.max(materialized.retentionMs ?? minRetention, minRetention);
    const { input, store } = this.grouped.prepare(op, materialized, { sizeMs: w.sizeMs, retentionMs });
    const emitConfig: EmitConfig = { mode: this.emit.mode };
    const node = input.addStage<Windowed<K>, VA>(
      `WINDOWED-${op}`,
      windowedAggregateStage(store, w, initializer, aggregator, emitConfig) as AnyStage,
      { stores: [store] },
    );
    const keySerde = materialized.keySerde ?? this.grouped.keySerde;
    return new KTable<Windowed<K>, VA>(
      node.nodeName,
      input.builder,
      store,
      keySerde ? (new TimeWindowedSerde(keySerde, w.sizeMs) as Serde<Windowed<K>>) : undefined,
      materialized.valueSerde,
      emitConfig,
    );
  }
}
