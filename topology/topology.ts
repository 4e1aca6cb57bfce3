import type { StreamPartitioner, TimestampExtractor } from './dsl/params.ts';
import type { StreamRecord } from './record.ts';
import type { Serde } from './serde.ts';
import type { AnyStage } from './stage.ts';
import type { StoreKind } from './stores/state-store.ts';

/** A sink's topic: fixed, or chosen per record. */
export type TopicNameExtractor = (record: StreamRecord<unknown, unknown>) => string;

export interface SourceNode {
  kind: 'source';
  name: string;
  /** Raw names; internal (repartition) topics are prefixed with the application id at runtime. */
  topics: string[];
  keySerde?: Serde<unknown>;
  valueSerde?: Serde<unknown>;
  timestampExtractor?: TimestampExtractor;
}

export interface ProcessorNode {
  kind: 'processor';
  name: string;
  parents: string[];
  stores: string[];
  stage: AnyStage;
}

export interface SinkNode {
  kind: 'sink';
  name: string;
  parents: string[];
  topic: string | TopicNameExtractor;
  keySerde?: Serde<unknown>;
  valueSerde?: Serde<unknown>;
  partitioner?: StreamPartitioner<unknown, unknown>;
}

export type TopologyNode = SourceNode | ProcessorNode | SinkNode;

/** A state store's declaration (config); the runtime builds the store per task from it. */
export interface StoreSpec {
  name: string;
  kind: StoreKind;
  keySerde?: Serde<unknown>;
  valueSerde?: Serde<unknown>;
  /** Back the store with a compacted changelog topic (default true). */
  logging: boolean;
  windowSizeMs?: number;
  retentionMs?: number;
}

/** A connected piece of the graph: it runs as one task per partition of its source topics. */
export interface Subtopology {
  id: number;
  /** Node names in processing order (sources first). */
  nodes: string[];
  sourceTopics: string[];
  sinkTopics: string[];
  stores: string[];
}

/**
 * A validated, immutable processing graph (made by `TopologyBuilder.build()`). Config, not
 * runtime: the same Topology can be run by several `LogFlowStreams` instances or test drivers.
 */
export class Topology {
  readonly nodes: ReadonlyMap<string, TopologyNode>;
  readonly stores: ReadonlyMap<string, StoreSpec>;
  readonly subtopologies: readonly Subtopology[];
  /** Raw names of internal topics (`<name>-repartition`), prefixed with the application id at runtime. */
  readonly internalTopics: ReadonlySet<string>;

  /** @internal Use `TopologyBuilder.build()`. */
  constructor(
    nodes: Map<string, TopologyNode>,
    stores: Map<string, StoreSpec>,
    internalTopics: Set<string>,
    subtopologies: Subtopology[],
  ) {
    this.nodes = nodes;
    this.stores = stores;
    this.internalTopics = internalTopics;
    this.subtopologies = subtopologies;
  }

  /** The real topic name for an application: internal topics get the `<applicationId>-` prefix. */
  topicName(raw: string, applicationId: string): string {
    return this.internalTopics.has(raw) ? `${applicationId}-${raw}` : raw;
  }

  /** Every source topic of every sub-topology, as real names. */
  sourceTopics(applicationId: string): string[] {
    return this.subtopologies.flatMap((s) => s.sourceTopics.map((t) => this.topicName(t, applicationId)));
  }

  /** The changelog topic of a store. */
  static changelogTopic(applicationId: string, store: string): string {
    return `${applicationId}-${store}-changelog`;
  }

  children(name: string): string[] {
    const out: string[] = [];
    for (const node of this.nodes.values())
      if (node.kind !== 'source' && node.parents.includes(name)) out.push(node.name);
    return out;
  }

  /** A Kafka Streams-style description: sub-topologies with their sources, processors, stores and sinks. */
  describe(): TopologyDescription {
    return new TopologyDescription(this);
  }
}

export class TopologyDescription {
  constructor(private readonly topology: Topology) {}

  toString(): string {
    const t = this.topology;
    const lines = ['Topologies:'];
    for (const sub of t.subtopologies) {
      lines.push(`   Sub-topology: ${sub.id}`);
      for (const name of sub.nodes) {
        const node = t.nodes.get(name)!;
        const children = t.children(name);
        if (node.kind === 'source') {
          lines.push(`    Source: ${name} (topics: [${node.topics.join(', ')}])`);
        } else if (node.kind === 'processor') {
          lines.push(`    Processor: ${name} (stores: [${node.stores.join(', ')}])`);
        } else {
          const topic = typeof node.topic === 'string' ? node.topic : '<topic chosen per record>';
          lines.push(`    Sink: ${name} (topic: ${topic})`);
        }
        if (children.length > 0) lines.push(`      --> ${children.join(', ')}`);
        else if (node.kind !== 'sink') lines.push('      --> none');
        if (node.kind !== 'source') lines.push(`      <-- ${node.parents.join(', ')}`);
      }
      lines.push('');
    }
    if (t.stores.size > 0) {
      lines.push('Stores:');
      for (const s of t.stores.values()) {
        const window =
          s.kind === 'window' ? `, window ${s.windowSizeMs}ms, retention ${s.retentionMs}ms` : '';
        lines.push(`   ${s.name} (${s.kind}${window}, changelog: ${s.logging ? 'yes' : 'no'})`);
      }
    }
    return lines.join('\n');
  }
}
