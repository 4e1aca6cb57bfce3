import type { Serde } from '../serde.ts';
import type { EmitConfig } from '../stages/windowed-aggregate.ts';
import { KStream } from './kstream.ts';
import type { EmitStrategy } from './params.ts';
import type { TopologyBuilder } from './topology-builder.ts';

/**
 * The result of an aggregation: a table whose changelog stream (`toStream()`) carries every
 * update of a key (or of a window). Backed by the store named `queryableStoreName`.
 */
export class KTable<K, V> {
  /** @internal */
  constructor(
    /** @internal */ readonly nodeName: string,
    /** @internal */ readonly builder: TopologyBuilder,
    readonly queryableStoreName: string,
    readonly keySerde: Serde<K> | undefined,
    readonly valueSerde: Serde<V> | undefined,
    /** @internal Set for windowed aggregations, whose emission `suppress` can change. */
    readonly emitConfig?: EmitConfig,
  ) {}

  /** The table's updates as a stream (key unchanged, so no repartition). */
  toStream(): KStream<K, V> {
    return new KStream<K, V>(this.builder, this.nodeName, this.keySerde, this.valueSerde, false);
  }

  /**
   * `suppress(Suppressed.untilWindowCloses())`: emit only each window's final result, once stream
   * time passes its end + grace. Only for windowed aggregations (anything else is a topology error).
   */
  suppress(strategy: EmitStrategy): KTable<K, V> {
    if (!this.emitConfig) {
      this.builder.errors.push(
        `suppress() on ${this.nodeName}: only windowed aggregations can be suppressed`,
      );
    } else {
      this.emitConfig.mode = strategy.mode;
    }
    return this;
  }
}
