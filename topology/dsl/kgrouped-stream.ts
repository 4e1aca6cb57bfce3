import type { Serde } from '../serde.ts';
import type { AnyStage } from '../stage.ts';
import { type Aggregator, aggregateStage, type Initializer, reduceStage } from '../stages/aggregate.ts';
import { SlidingWindows } from '../windows/sliding-windows.ts';
import type { TimeWindows } from '../windows/time-windows.ts';
import type { KStream } from './kstream.ts';
import { KTable } from './ktable.ts';
import { LongSerde } from './long-serde.ts';
import { Grouped, Materialized } from './params.ts';
import { SlidingWindowedKStream } from './sliding-windowed-kstream.ts';
import { TimeWindowedKStream } from './time-windowed-kstream.ts';

/**
 * A grouped stream: the input of an aggregation. Aggregations keep their state in a store
 * (`Materialized.as(name)`, else a generated name) backed by `<applicationId>-<store>-changelog`.
 */
export class KGroupedStream<K, V> {
  /** @internal */
  constructor(
    /** @internal */ readonly stream: KStream<K, V>,
    /** @internal */ readonly grouped: Grouped<K, V>,
  ) {}

  get keySerde(): Serde<K> | undefined {
    return (
      this.grouped.keySerde ??
      this.stream.keySerde ??
      (this.stream.builder.options.defaultKeySerde as Serde<K>)
    );
  }

  get valueSerde(): Serde<V> | undefined {
    return (
      this.grouped.valueSerde ??
      this.stream.valueSerde ??
      (this.stream.builder.options.defaultValueSerde as Serde<V>)
    );
  }

  /** Tumbling or hopping windows (`TimeWindows`), or sliding windows (`SlidingWindows`). */
  windowedBy(windows: TimeWindows): TimeWindowedKStream<K, V>;
  windowedBy(windows: SlidingWindows): SlidingWindowedKStream<K, V>;
  windowedBy(
    windows: TimeWindows | SlidingWindows,
  ): TimeWindowedKStream<K, V> | SlidingWindowedKStream<K, V> {
    return windows instanceof SlidingWindows
      ? new SlidingWindowedKStream(this, windows)
      : new TimeWindowedKStream(this, windows);
  }

  count(materialized: Materialized<K, number> = Materialized.with<K, number>()): KTable<K, number> {
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
  ): KTable<K, V> {
    const m =
      materialized.valueSerde || !this.valueSerde
        ? materialized
        : materialized.withValueSerde(this.valueSerde);
    const { input, store } = this.prepare('REDUCE', m);
    const node = input.addStage<K, V>('REDUCE', reduceStage(store, reducer) as AnyStage, { stores: [store] });
    return new KTable<K, V>(
      node.nodeName,
      this.stream.builder,
      store,
      m.keySerde ?? this.keySerde,
      m.valueSerde,
    );
  }

  aggregate<VA>(
    initializer: Initializer<VA>,
    aggregator: Aggregator<K, V, VA>,
    materialized: Materialized<K, VA> = Materialized.with<K, VA>(),
    op = 'AGGREGATE',
  ): KTable<K, VA> {
    const { input, store } = this.prepare(op, materialized);
    const node = input.addStage<K, VA>(op, aggregateStage(store, initializer, aggregator) as AnyStage, {
      stores: [store],
    });
    return new KTable<K, VA>(
      node.nodeName,
      this.stream.builder,
      store,
      materialized.keySerde ?? this.keySerde,
      materialized.valueSerde,
    );
  }

  /**
   * @internal Declares the store and, when the key changed upstream, inserts the repartition
   * topic. Returns the stream the aggregation reads and the store's name.
   */
  prepare<VA>(
    op: string,
    materialized: Materialized<K, VA>,
    window?: { sizeMs: number; retentionMs: number },
  ): { input: KStream<K, V>; store: string } {
    const builder = this.stream.builder;
    const store = materialized.storeName ?? builder.nextName(`${op}-STATE-STORE`);
    builder.addStateStore({
      name: store,
      kind: window ? 'window' : 'keyValue',
      keySerde: (materialized.keySerde ?? this.keySerde) as Serde<unknown>,
      valueSerde: materialized.valueSerde as Serde<unknown>,
      logging: materialized.loggingEnabled,
      windowSizeMs: window?.sizeMs,
      retentionMs: window?.retentionMs,
    });
    let input = this.stream;
    if (input.repartitionRequired) {
      const keySerde = this.keySerde;
      const valueSerde = this.valueSerde;
      if (!keySerde || !valueSerde) {
        builder.errors.push(
          `repartition before ${store}: no ${keySerde ? 'value' : 'key'} serde for the repartition topic (Grouped.with)`,
        );
      }
      input = input.repartition(Grouped.with(keySerde, valueSerde).withName(this.grouped.name ?? store));
    }
    return { input, store };
  }
}
