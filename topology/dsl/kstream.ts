import type { StreamRecord } from '../record.ts';
import type { Serde } from '../serde.ts';
import type { AnyStage, Stage } from '../stage.ts';
import { branchChildStage, branchStage } from '../stages/branch.ts';
import { filterStage } from '../stages/filter.ts';
import { flatMapStage, flatMapValuesStage } from '../stages/flat-map.ts';
import { type KeyValue, mapStage, mapValuesStage, selectKeyStage } from '../stages/map.ts';
import { peekStage } from '../stages/peek.ts';
import { type ProcessorSupplier, processStage } from '../stages/process.ts';
import type { TopicNameExtractor } from '../topology.ts';
import { KGroupedStream } from './kgrouped-stream.ts';
import type { KTable } from './ktable.ts';
import { Consumed, Grouped, Produced } from './params.ts';
import { streamTableJoinStage, type ValueJoiner } from './table-stages.ts';
import type { TopologyBuilder } from './topology-builder.ts';

export type Predicate<K, V> = (key: K, value: V, record: StreamRecord<K, V>) => boolean;

/**
 * A stream of records, as a handle on one node of the builder's graph. Every operation adds a
 * stage node (named `KSTREAM-<OP>-<n>` unless you pass a name, which is also its metric label)
 * and returns a new KStream. Serdes follow the data: stages that keep the key keep the key serde,
 * stages that make new values drop the value serde, so a later `to()` or grouping needs one.
 *
 * Key-changing stages (`map`, `selectKey`, `flatMap`) mark the stream for repartitioning: a later
 * `groupByKey()` then routes records through `<applicationId>-<name>-repartition` so every key is
 * aggregated on the partition Kafka's partitioner gives it.
 */
export class KStream<K, V> {
  /** @internal */
  constructor(
    /** @internal */ readonly builder: TopologyBuilder,
    /** @internal */ readonly nodeName: string,
    readonly keySerde: Serde<K> | undefined,
    readonly valueSerde: Serde<V> | undefined,
    /** @internal */ readonly repartitionRequired: boolean,
  ) {}

  /** @internal Adds a stage node after this one. */
  addStage<K2, V2>(
    op: string,
    stage: AnyStage,
    options: {
      name?: string;
      stores?: string[];
      keySerde?: Serde<K2>;
      valueSerde?: Serde<V2>;
      repartition?: boolean;
      parents?: string[];
    } = {},
  ): KStream<K2, V2> {
    const name = this.builder.addNode({
      kind: 'processor',
      name: options.name ?? this.builder.nextName(op),
      parents: options.parents ?? [this.nodeName],
      stores: options.stores ?? [],
      stage,
    });
    return new KStream<K2, V2>(
      this.builder,
      name,
      options.keySerde,
      options.valueSerde,
      options.repartition ?? this.repartitionRequired,
    );
  }

  map<K2, V2>(
    fn: (key: K, value: V, record: StreamRecord<K, V>) => KeyValue<K2, V2>,
    name?: string,
  ): KStream<K2, V2> {
    return this.addStage('MAP', mapStage(fn), { name, repartition: true });
  }

  mapValues<V2>(fn: (value: V, key: K, record: StreamRecord<K, V>) => V2, name?: string): KStream<K, V2> {
    return this.addStage('MAPVALUES', mapValuesStage(fn), { name, keySerde: this.keySerde });
  }

  selectKey<K2>(fn: (key: K, value: V, record: StreamRecord<K, V>) => K2, name?: string): KStream<K2, V> {
    return this.addStage('KEY-SELECT', selectKeyStage(fn), {
      name,
      valueSerde: this.valueSerde,
      repartition: true,
    });
  }

  filter(predicate: Predicate<K, V>, name?: string): KStream<K, V> {
    return this.addStage('FILTER', filterStage(predicate), this.same(name));
  }

  filterNot(predicate: Predicate<K, V>, name?: string): KStream<K, V> {
    return this.addStage('FILTER', filterStage(predicate, true), this.same(name));
  }

  flatMap<K2, V2>(
    fn: (key: K, value: V, record: StreamRecord<K, V>) => Iterable<KeyValue<K2, V2>>,
    name?: string,
  ): KStream<K2, V2> {
    return this.addStage('FLATMAP', flatMapStage(fn), { name, repartition: true });
  }

  flatMapValues<V2>(
    fn: (value: V, key: K, record: StreamRecord<K, V>) => Iterable<V2>,
    name?: string,
  ): KStream<K, V2> {
    return this.addStage('FLATMAPVALUES', flatMapValuesStage(fn), { name, keySerde: this.keySerde });
  }

  peek(fn: (key: K, value: V, record: StreamRecord<K, V>) => void, name?: string): KStream<K, V> {
    return this.addStage('PEEK', peekStage(fn), this.same(name));
  }

  /** A custom RxJS stage. It must not throw or emit `error`: report failures with `ctx.reportError`. */
  transform<K2, V2>(stage: Stage<K, V, K2, V2>, name?: string): KStream<K2, V2> {
    return this.addStage('TRANSFORM', stage as AnyStage, { name, repartition: true });
  }

  /** Records of both streams, interleaved as they arrive. */
  merge(other: KStream<K, V>, name?: string): KStream<K, V> {
    return this.addStage('MERGE', (_ctx) => (source) => source, {
      ...this.same(name),
      parents: [this.nodeName, other.nodeName],
      repartition: this.repartitionRequired || other.repartitionRequired,
    });
  }

  /**
   * One stream per predicate: a record goes to the first branch whose predicate accepts it and
   * is dropped when none does.
   */
  branch(...predicates: Array<Predicate<K, V>>): Array<KStream<K, V>> {
    const tags = new WeakMap<object, number>();
    const parent = this.addStage<K, V>('BRANCH', branchStage(predicates, false, tags), this.same());
    return predicates.map((_, i) =>
      parent.addStage<K, V>('BRANCHCHILD', branchChildStage(i, tags), parent.same()),
    );
  }

  /**
   * Named branches: `split({ errors: isError, slow: isSlow }, 'rest')` gives `{ errors, slow, rest }`;
   * first matching predicate wins; without a default name unmatched records are dropped.
   */
  split<B extends string>(
    branches: Record<B, Predicate<K, V>>,
    defaultBranch?: string,
  ): Record<B, KStream<K, V>> & Record<string, KStream<K, V>> {
    const names = Object.keys(branches) as B[];
    const predicates = names.map((n) => branches[n]);
    const tags = new WeakMap<object, number>();
    const parent = this.addStage<K, V>(
      'BRANCH',
      branchStage(predicates, defaultBranch !== undefined, tags),
      this.same(),
    );
    const out: Record<string, KStream<K, V>> = {};
    names.forEach((n, i) => {
      out[n] = parent.addStage<K, V>(
        'BRANCHCHILD',
        branchChildStage(i, tags),
        parent.same(`${parent.nodeName}-${n}`),
      );
    });
    if (defaultBranch !== undefined) {
      out[defaultBranch] = parent.addStage<K, V>(
        'BRANCHCHILD',
        branchChildStage(names.length, tags),
        parent.same(`${parent.nodeName}-${defaultBranch}`),
      );
    }
    return out as Record<B, KStream<K, V>> & Record<string, KStream<K, V>>;
  }

  /** Writes every record to `topic` (or to the topic `topic(record)` names). */
  to(topic: string | TopicNameExtractor, produced: Produced<K, V> = Produced.with<K, V>()): void {
    this.builder.addNode({
      kind: 'sink',
      name: produced.processorName ?? this.builder.nextName('SINK'),
      parents: [this.nodeName],
      topic,
      keySerde: (produced.keySerde ??
        this.keySerde ??
        this.builder.options.defaultKeySerde) as Serde<unknown>,
      valueSerde: (produced.valueSerde ??
        this.valueSerde ??
        this.builder.options.defaultValueSerde) as Serde<unknown>,
      partitioner: produced.partitioner as never,
    });
  }

  /** Writes to `topic` and continues with a stream read back from it (a new sub-topology). */
  through(topic: string, produced: Produced<K, V> = Produced.with<K, V>()): KStream<K, V> {
    this.to(topic, produced);
    const keySerde = produced.keySerde ?? this.keySerde;
    const valueSerde = produced.valueSerde ?? this.valueSerde;
    return this.builder.stream(topic, Consumed.with(keySerde, valueSerde));
  }

  /** Routes the stream through `<applicationId>-<name>-repartition`, partitioned by the current key. */
  repartition(grouped: Grouped<K, V> = Grouped.with<K, V>()): KStream<K, V> {
    const name = grouped.name ?? this.builder.nextName('REPARTITION');
    const topic = `${name}-repartition`;
    this.builder.internalTopics.add(topic);
    const keySerde = grouped.keySerde ?? this.keySerde ?? (this.builder.options.defaultKeySerde as Serde<K>);
    const valueSerde =
      grouped.valueSerde ?? this.valueSerde ?? (this.builder.options.defaultValueSerde as Serde<V>);
    this.builder.addNode({
      kind: 'sink',
      name: `${name}-repartition-sink`,
      parents: [this.nodeName],
      topic,
      keySerde: keySerde as Serde<unknown>,
      valueSerde: valueSerde as Serde<unknown>,
    });
    return this.builder.stream(
      topic,
      Consumed.with(keySerde, valueSerde).withName(`${name}-repartition-source`),
    );
  }

  /**
   * The Processor API: `supplier()` makes one processor per task; it may read and write the named
   * stores (declared with `builder.addStateStore`) and schedule punctuators.
   */
  process<K2 = K, V2 = V>(
    supplier: ProcessorSupplier<K, V, K2, V2>,
    storeNames: string[] = [],
    name?: string,
  ): KStream<K2, V2> {
    return this.addStage('PROCESSOR', processStage(supplier) as AnyStage, {
      name,
      stores: storeNames,
      repartition: false,
    });
  }

  /**
   * Joins each record with `table`'s current value for its key (`joiner(value, tableValue, key)`);
   * records whose key is not in the table are dropped. The key is unchanged. The stream must be
   * partitioned by the table's key: a stream whose key was changed (`map`, `selectKey`, ...) is a
   * topology error until it is `repartition()`ed, and the runtime checks at start that both topics
   * have the same partition count.
   */
  join<VT, VR>(table: KTable<K, VT>, joiner: ValueJoiner<K, V, VT, VR>, name?: string): KStream<K, VR> {
    return this.joinTable('JOIN', table, joiner, false, name);
  }

  /** As `join`, but a record whose key is not in the table is joined with null. */
  leftJoin<VT, VR>(table: KTable<K, VT>, joiner: ValueJoiner<K, V, VT, VR>, name?: string): KStream<K, VR> {
    return this.joinTable('LEFTJOIN', table, joiner, true, name);
  }

  private joinTable<VT, VR>(
    op: string,
    table: KTable<K, VT>,
    joiner: ValueJoiner<K, V, VT, VR>,
    left: boolean,
    name?: string,
  ): KStream<K, VR> {
    const store = table.queryableStoreName;
    const label = name ?? op.toLowerCase();
    if (table.builder !== this.builder) {
      this.builder.errors.push(`${label}: the table belongs to another TopologyBuilder`);
    } else if (this.builder.stores.get(store)?.kind !== 'keyValue') {
      this.builder.errors.push(`${label}: only a key-value table can be joined (store ${store} is windowed)`);
    }
    if (this.repartitionRequired) {
      this.builder.errors.push(
        `${label} with table ${store}: the stream's key was changed, so it is not co-partitioned with the table (repartition() it first)`,
      );
    }
    return this.addStage(op, streamTableJoinStage(store, joiner, left), {
      name,
      stores: [store],
      keySerde: this.keySerde,
      repartition: false,
    });
  }

  /** Groups by the current key (repartitioning first if the key was changed). */
  groupByKey(grouped: Grouped<K, V> = Grouped.with<K, V>()): KGroupedStream<K, V> {
    return new KGroupedStream(this, grouped);
  }

  /** Groups by a new key: `selectKey(fn)` then `groupByKey` (always repartitions). */
  groupBy<K2>(
    fn: (key: K, value: V, record: StreamRecord<K, V>) => K2,
    grouped: Grouped<K2, V> = Grouped.with<K2, V>(),
  ): KGroupedStream<K2, V> {
    return this.selectKey(fn).groupByKey(grouped);
  }

  private same(name?: string): { name?: string; keySerde?: Serde<K>; valueSerde?: Serde<V> } {
    return { name, keySerde: this.keySerde, valueSerde: this.valueSerde };
  }
}
