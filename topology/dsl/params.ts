/**
 * Parameter objects, named as past participles after Kafka Streams: `Consumed` (how a source
 * topic is read), `Produced` (how a sink writes), `Grouped` (how a grouping repartitions),
 * `Materialized` (the store behind an aggregation). Immutable: every `with…` returns a copy.
 */
import type { StreamRecord } from '../record.ts';
import type { Serde } from '../serde.ts';

/** Event time of a record read from a source; defaults to the message timestamp. */
export type TimestampExtractor<K = unknown, V = unknown> = (record: StreamRecord<K, V>) => number;

export class Consumed<K, V> {
  private constructor(
    readonly keySerde?: Serde<K>,
    readonly valueSerde?: Serde<V>,
    readonly timestampExtractor?: TimestampExtractor<K, V>,
    readonly processorName?: string,
  ) {}

  static with<K, V>(keySerde?: Serde<K>, valueSerde?: Serde<V>): Consumed<K, V> {
    return new Consumed(keySerde, valueSerde);
  }

  static as<K, V>(name: string): Consumed<K, V> {
    return new Consumed<K, V>(undefined, undefined, undefined, name);
  }

  withTimestampExtractor(extractor: TimestampExtractor<K, V>): Consumed<K, V> {
    return new Consumed(this.keySerde, this.valueSerde, extractor, this.processorName);
  }

  withName(name: string): Consumed<K, V> {
    return new Consumed(this.keySerde, this.valueSerde, this.timestampExtractor, name);
  }
}

/** Chooses the partition of an output record; undefined = Kafka's default (murmur2 of the key bytes). */
export type StreamPartitioner<K, V> = (
  topic: string,
  key: K,
  value: V,
  numPartitions: number,
) => number | undefined;

export class Produced<K, V> {
  private constructor(
    readonly keySerde?: Serde<K>,
    readonly valueSerde?: Serde<V>,
    readonly partitioner?: StreamPartitioner<K, V>,
    readonly processorName?: string,
  ) {}

  static with<K, V>(keySerde?: Serde<K>, valueSerde?: Serde<V>): Produced<K, V> {
    return new Produced(keySerde, valueSerde);
  }

  static as<K, V>(name: string): Produced<K, V> {
    return new Produced<K, V>(undefined, undefined, undefined, name);
  }

  withStreamPartitioner(partitioner: StreamPartitioner<K, V>): Produced<K, V> {
    return new Produced(this.keySerde, this.valueSerde, partitioner, this.processorName);
  }

  withName(name: string): Produced<K, V> {
    return new Produced(this.keySerde, this.valueSerde, this.partitioner, name);
  }
}

export class Grouped<K, V> {
  private constructor(
    readonly keySerde?: Serde<K>,
    readonly valueSerde?: Serde<V>,
    /** Names the repartition topic `<applicationId>-<name>-repartition`. */
    readonly name?: string,
  ) {}

  static with<K, V>(keySerde?: Serde<K>, valueSerde?: Serde<V>): Grouped<K, V> {
    return new Grouped(keySerde, valueSerde);
  }

  static as<K, V>(name: string): Grouped<K, V> {
    return new Grouped<K, V>(undefined, undefined, name);
  }

  withName(name: string): Grouped<K, V> {
    return new Grouped(this.keySerde, this.valueSerde, name);
  }
}

export class Materialized<K, V> {
  private constructor(
    readonly storeName?: string,
    readonly keySerde?: Serde<K>,
    readonly valueSerde?: Serde<V>,
    readonly retentionMs?: number,
    readonly loggingEnabled: boolean = true,
  ) {}

  /** Names the store (and so its changelog `<applicationId>-<storeName>-changelog`). */
  static as<K, V>(storeName: string): Materialized<K, V> {
    return new Materialized<K, V>(storeName);
  }

  static with<K, V>(keySerde?: Serde<K>, valueSerde?: Serde<V>): Materialized<K, V> {
    return new Materialized<K, V>(undefined, keySerde, valueSerde);
  }

  withKeySerde(serde: Serde<K>): Materialized<K, V> {
    return new Materialized(this.storeName, serde, this.valueSerde, this.retentionMs, this.loggingEnabled);
  }

  withValueSerde(serde: Serde<V>): Materialized<K, V> {
    return new Materialized(this.storeName, this.keySerde, serde, this.retentionMs, this.loggingEnabled);
  }

  /** How long windows are kept after they start (≥ size + grace); default size + grace. */
  withRetention(retentionMs: number): Materialized<K, V> {
    return new Materialized(this.storeName, this.keySerde, this.valueSerde, retentionMs, this.loggingEnabled);
  }

  /** No changelog: the store starts empty after every restart or rebalance. */
  withLoggingDisabled(): Materialized<K, V> {
    return new Materialized(this.storeName, this.keySerde, this.valueSerde, this.retentionMs, false);
  }
}

/** When a windowed aggregation emits: on every update, or once per window when it closes. */
export class EmitStrategy {
  private constructor(readonly mode: 'onWindowUpdate' | 'onWindowClose') {}
  static onWindowUpdate(): EmitStrategy {
    return new EmitStrategy('onWindowUpdate');
  }
  static onWindowClose(): EmitStrategy {
    return new EmitStrategy('onWindowClose');
  }
}

/** Kafka Streams' `Suppressed.untilWindowCloses()`: only final window results. */
export const Suppressed = {
  untilWindowCloses: (): EmitStrategy => EmitStrategy.onWindowClose(),
};
