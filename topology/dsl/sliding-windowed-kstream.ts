import type { Serde } from '../serde.ts';
import type { AnyStage } from '../stage.ts';
import type { Aggregator, Initializer } from '../stages/aggregate.ts';
import type { EmitConfig } from '../stages/windowed-aggregate.ts';
import { slidingWindowAggregateStage } from '../windows/sliding-window-aggregate.ts';
import type { SlidingWindows } from '../windows/sliding-windows.ts';
import type { Windowed } from '../windows/windowed.ts';
import { TimeWindowedSerde } from '../windows/windowed-serde.ts';
import type { KGroupedStream } from './kgrouped-stream.ts';
import { KTable } from './ktable.ts';
import { LongSerde } from './long-serde.ts';
import { Materialized } from './params.ts';
import { WindowedKStreamBase } from './windowed-kstream-base.ts';

/**
 * A grouped stream cut into sliding windows (`groupByKey().windowedBy(SlidingWindows...)`).
 * Aggregations give a `KTable<Windowed<K>, VA>` whose windows are [start, start + d], both ends
 * inclusive; the key serde is the time-windowed form of the grouping key serde with size d.
 *
 * State: the aggregates live in the window store `Materialized.as(name)` and the latest record
 * time of each window in `<name>-timestamps`; both are backed by changelogs and restored alike.
 */
export class SlidingWindowedKStream<K, V> extends WindowedKStreamBase<K, V> {
  /** @internal */
  constructor(
    grouped: KGroupedStream<K, V>,
    readonly windows: SlidingWindows,
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
    const d = w.timeDifferenceMs;
    const retentionMs = Math.max(materialized.retentionMs ?? w.minRetentionMs, w.minRetentionMs);
    const { input, store } = this.grouped.prepare(`SLIDING-${op}`, materialized, { sizeMs: d, retentionMs });
    const keySerde = materialized.keySerde ?? this.grouped.keySerde;
    const timestampStore = `${store}-timestamps`;
    input.builder.addStateStore({
      name: timestampStore,
      kind: 'window',
      keySerde: keySerde as Serde<unknown> | undefined,
      valueSerde: new LongSerde() as Serde<unknown>,
      logging: materialized.loggingEnabled,
      windowSizeMs: d,
      retentionMs,
    });
    const emitConfig: EmitConfig = { mode: this.emit.mode };
    const stage = slidingWindowAggregateStage(
      store,
      timestampStore,
      w,
      initializer,
      aggregator,
      emitConfig,
      materialized.valueSerde,
    );
    const node = input.addStage<Windowed<K>, VA>(`SLIDING-WINDOWED-${op}`, stage as AnyStage, {
      stores: [store, timestampStore],
    });
    return new KTable<Windowed<K>, VA>(
      node.nodeName,
      input.builder,
      store,
      keySerde ? (new TimeWindowedSerde(keySerde, d) as Serde<Windowed<K>>) : undefined,
      materialized.valueSerde,
      emitConfig,
    );
  }
}
