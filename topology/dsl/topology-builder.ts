import { LogFlowError } from '../../common/errors.ts';
import type { Serde } from '../serde.ts';
import {
  type SinkNode,
  type SourceNode,
  type StoreSpec,
  type Subtopology,
  Topology,
  type TopologyNode,
} from '../topology.ts';
import { KStream } from './kstream.ts';
import { KTable } from './ktable.ts';
import { Consumed, Materialized } from './params.ts';
import { tableSourceStage } from './table-stages.ts';

export interface TopologyBuilderOptions {
  /** Used where a source, sink, grouping or store names no serde of its own. */
  defaultKeySerde?: Serde<unknown>;
  defaultValueSerde?: Serde<unknown>;
}

/**
 * Builds a `Topology` with the DSL: `stream(topic)` gives a `KStream` whose stages add nodes to
 * this builder. Mistakes are collected rather than thrown, and `build()` reports all of them at
 * once (LF_ERR_TOPOLOGY_INVALID with `details` listing every problem), so a topology is checked
 * as a whole before anything starts.
 */
export class TopologyBuilder {
  /** @internal */ readonly nodes = new Map<string, TopologyNode>();
  /** @internal */ readonly stores = new Map<string, StoreSpec>();
  /** @internal */ readonly internalTopics = new Set<string>();
  /** @internal */ readonly errors: string[] = [];
  private counter = 0;

  constructor(readonly options: TopologyBuilderOptions = {}) {}

  /** A stream of the records of one or more topics (several topics must be co-partitioned). */
  stream<K, V>(topics: string | string[], consumed: Consumed<K, V> = Consumed.with<K, V>()): KStream<K, V> {
    const list = Array.isArray(topics) ? topics : [topics];
    if (list.length === 0) this.errors.push('stream() needs at least one topic');
    const keySerde = (consumed.keySerde ?? this.options.defaultKeySerde) as Serde<K> | undefined;
    const valueSerde = (consumed.valueSerde ?? this.options.defaultValueSerde) as Serde<V> | undefined;
    const name = this.addNode({
      kind: 'source',
      name: consumed.processorName ?? this.nextName('SOURCE'),
      topics: list,
      keySerde: keySerde as Serde<unknown> | undefined,
      valueSerde: valueSerde as Serde<unknown> | undefined,
      timestampExtractor: consumed.timestampExtractor as SourceNode['timestampExtractor'],
    });
    return new KStream<K, V>(this, name, keySerde, valueSerde, false);
  }

  /**
   * A table of the latest value per key of `topic` (a null value deletes the key), materialised
   * in a key-value store (`Materialized.as(name)`, else a generated name) backed by its changelog
   * `<applicationId>-<store>-changelog`. Join a stream with it (`stream.join(table, joiner)`): the
   * stream's topic and this one must be co-partitioned (same key, same partition count).
   */
  table<K, V>(
    topic: string,
    consumed: Consumed<K, V> = Consumed.with<K, V>(),
    materialized: Materialized<K, V> = Materialized.with<K, V>(),
  ): KTable<K, V> {
    const stream = this.stream(topic, consumed);
    const store = materialized.storeName ?? this.nextName('TABLE-SOURCE-STATE-STORE');
    const keySerde = materialized.keySerde ?? stream.keySerde;
    const valueSerde = materialized.valueSerde ?? stream.valueSerde;
    this.addStateStore({
      name: store,
      kind: 'keyValue',
      keySerde: keySerde as Serde<unknown> | undefined,
      valueSerde: valueSerde as Serde<unknown> | undefined,
      logging: materialized.loggingEnabled,
    });
    const node = stream.addStage<K, V>('TABLE-SOURCE', tableSourceStage(store), {
      stores: [store],
      keySerde,
      valueSerde,
    });
    return new KTable<K, V>(node.nodeName, this, store, keySerde, valueSerde);
  }

  /** Declares a store for `process()` stages (see `Stores`). */
  addStateStore(spec: StoreSpec): this {
    if (this.stores.has(spec.name)) this.errors.push(`duplicate store name "${spec.name}"`);
    else this.stores.set(spec.name, spec);
    return this;
  }

  /** @internal */
  nextName(op: string): string {
    return `KSTREAM-${op}-${String(this.counter++).padStart(10, '0')}`;
  }

  /** @internal Adds a node, recording a duplicate name as an error. */
  addNode(node: TopologyNode): string {
    if (this.nodes.has(node.name)) {
      this.errors.push(`duplicate processor name "${node.name}"`);
      node = { ...node, name: `${node.name}#${this.counter++}` };
    }
    this.nodes.set(node.name, node);
    return node.name;
  }

  /** Validates the whole graph and freezes it. Throws LF_ERR_TOPOLOGY_INVALID listing every problem. */
  build(): Topology {
    const problems = [...this.errors];
    const readers = new Map<string, string>();
    for (const node of this.nodes.values()) {
      if (node.kind === 'source') {
        if (!node.keySerde)
          problems.push(`source ${node.name} (${node.topics.join(', ')}): no key serde (Consumed.with)`);
        if (!node.valueSerde)
          problems.push(`source ${node.name} (${node.topics.join(', ')}): no value serde (Consumed.with)`);
        for (const topic of node.topics) {
          const other = readers.get(topic);
          if (other) problems.push(`topic ${topic} is read by two sources: ${other} and ${node.name}`);
          readers.set(topic, node.name);
        }
        continue;
      }
      for (const parent of node.parents) {
        if (!this.nodes.has(parent)) problems.push(`${node.name}: unknown parent ${parent}`);
      }
      if (node.kind === 'processor') {
        for (const store of node.stores) {
          if (!this.stores.has(store)) problems.push(`${node.name}: unknown state store "${store}"`);
        }
      } else {
        const topic = typeof node.topic === 'string' ? node.topic : 'a per-record topic';
        if (!node.keySerde) problems.push(`sink ${node.name} (${topic}): no key serde (Produced.with)`);
        if (!node.valueSerde) problems.push(`sink ${node.name} (${topic}): no value serde (Produced.with)`);
      }
    }
    for (const store of this.stores.values()) {
      if (store.logging && (!store.keySerde || !store.valueSerde)) {
        problems.push(
          `store ${store.name}: its changelog needs a ${store.keySerde ? 'value' : 'key'} serde (Materialized.with)`,
        );
      }
    }
    problems.push(...this.nodeCycles());
    const subtopologies = this.subtopologies();
    problems.push(...topicCycles(subtopologies));
    if (problems.length > 0) {
      throw new LogFlowError(
        'LF_ERR_TOPOLOGY_INVALID',
        `invalid topology (${problems.length} problem${problems.length > 1 ? 's' : ''}):\n- ${problems.join('\n- ')}`,
        { details: problems },
      );
    }
    return new Topology(
      new Map(this.nodes),
      new Map(this.stores),
      new Set(this.internalTopics),
      subtopologies,
    );
  }

  private nodeCycles(): string[] {
    const state = new Map<string, 'visiting' | 'done'>();
    const problems: string[] = [];
    const visit = (name: string, path: string[]) => {
      const s = state.get(name);
      if (s === 'done') return;
      if (s === 'visiting') {
        problems.push(`cycle between processors: ${[...path.slice(path.indexOf(name)), name].join(' -> ')}`);
        return;
      }
      state.set(name, 'visiting');
      const node = this.nodes.get(name);
      if (node && node.kind !== 'source') for (const p of node.parents) visit(p, [...path, name]);
      state.set(name, 'done');
    };
    for (const name of this.nodes.keys()) visit(name, []);
    return problems;
  }

  /** Connected components of the node graph; nodes sharing a store belong together. */
  private subtopologies(): Subtopology[] {
    const names = [...this.nodes.keys()];
    const parent = new Map(names.map((n) => [n, n]));
    const find = (n: string): string => {
      let root = n;
      while (parent.get(root) !== root) root = parent.get(root)!;
      parent.set(n, root);
      return root;
    };
    const union = (a: string, b: string) => {
      if (!parent.has(a) || !parent.has(b)) return;
      parent.set(find(a), find(b));
    };
    const storeUser = new Map<string, string>();
    for (const node of this.nodes.values()) {
      if (node.kind !== 'source') for (const p of node.parents) union(node.name, p);
      if (node.kind === 'processor') {
        for (const store of node.stores) {
          const other = storeUser.get(store);
          if (other) union(node.name, other);
          else storeUser.set(store, node.name);
        }
      }
    }
    const groups = new Map<string, string[]>();
    for (const n of names) {
      const root = find(n);
      const list = groups.get(root) ?? [];
      list.push(n);
      groups.set(root, list);
    }
    let id = 0;
    return [...groups.values()].map((nodes) => {
      const sourceTopics: string[] = [];
      const sinkTopics: string[] = [];
      const stores = new Set<string>();
      for (const n of nodes) {
        const node = this.nodes.get(n)!;
        if (node.kind === 'source') sourceTopics.push(...node.topics);
        else if (node.kind === 'sink' && typeof (node as SinkNode).topic === 'string')
          sinkTopics.push(node.topic as string);
        else if (node.kind === 'processor') for (const s of node.stores) stores.add(s);
      }
      return { id: id++, nodes, sourceTopics, sinkTopics, stores: [...stores] };
    });
  }
}

function topicCycles(subtopologies: Subtopology[]): string[] {
  const edges = new Map<string, Set<string>>();
  for (const sub of subtopologies) {
    for (const from of sub.sourceTopics) {
      const set = edges.get(from) ?? new Set();
      for (const to of sub.sinkTopics) set.add(to);
      edges.set(from, set);
    }
  }
  const problems: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (topic: string, path: string[]) => {
    const s = state.get(topic);
    if (s === 'done') return;
    if (s === 'visiting') {
      problems.push(`cycle through topics: ${[...path.slice(path.indexOf(topic)), topic].join(' -> ')}`);
      return;
    }
    state.set(topic, 'visiting');
    for (const next of edges.get(topic) ?? []) visit(next, [...path, topic]);
    state.set(topic, 'done');
  };
  for (const topic of edges.keys()) visit(topic, []);
  return problems;
}
