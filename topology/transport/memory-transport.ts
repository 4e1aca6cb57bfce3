import { LogFlowError } from '../../common/errors.ts';
import type { Headers } from '../record.ts';
import { type AssignmentStrategy, MemoryGroup } from './memory/group.ts';
import { MemoryConsumer } from './memory/memory-consumer.ts';
import { MemoryProducer } from './memory/memory-producer.ts';
import { PartitionLog } from './memory/partition-log.ts';
import { partitionForKey } from './murmur2.ts';
import type {
  Consumer,
  ConsumerOptions,
  IncomingMessage,
  OutgoingMessage,
  Producer,
  ProducerOptions,
  RecordAck,
  TopicPartitionOffset,
  TopicSpec,
  Transport,
} from './transport.ts';

export interface MemoryTransportOptions {
  /** Create a topic on first produce/subscribe, as a broker with auto.create.topics.enable. Default true. */
  autoCreateTopics?: boolean;
  /** Partitions of auto-created topics. Default 1. */
  defaultPartitions?: number;
  /**
   * Messages kept per partition before the oldest are dropped (size retention). Default 500,000.
   * A topic can override it with `configs['retention.messages']`. Compacted topics keep the latest
   * value of every key regardless.
   */
  retainMessagesPerPartition?: number;
  /** How groups split partitions. Default `range` (keeps co-partitioned topics together). */
  assignmentStrategy?: AssignmentStrategy;
}

interface MemoryTopic {
  name: string;
  compacted: boolean;
  partitions: PartitionLog[];
}

const EMPTY_HEADERS: Headers = Object.freeze({}) as Headers;

/**
 * The in-process transport of the embedded mode (and of topology tests): Kafka's semantics —
 * topics with partitions and offsets, murmur2 key partitioning identical to Kafka's default
 * partitioner, consumer groups with committed offsets and rebalancing, pause/resume/seek,
 * transactions, compaction for changelogs — without a broker. Everything is synchronous under the
 * hood; the async API only mirrors the Kafka transport.
 *
 * Lifecycle: create, use, `close()` (idempotent) disconnects every consumer it made.
 */
export class MemoryTransport implements Transport {
  readonly kind = 'memory' as const;
  private readonly topics: Map<string, MemoryTopic>;
  private readonly groups: Map<string, MemoryGroup>;
  private readonly subscribers: Map<string, Set<MemoryConsumer>>;
  private readonly epochs: Map<string, number>;
  private readonly consumers = new Set<MemoryConsumer>();
  private readonly shared: { memberSeq: number };
  private readonly autoCreate: boolean;
  private readonly defaultPartitions: number;
  private readonly retain: number;
  private readonly strategy: AssignmentStrategy;
  private dead = false;

  constructor(options: MemoryTransportOptions = {}, from?: MemoryTransport) {
    this.autoCreate = options.autoCreateTopics ?? true;
    this.defaultPartitions = options.defaultPartitions ?? 1;
    this.retain = options.retainMessagesPerPartition ?? 500_000;
    this.strategy = options.assignmentStrategy ?? 'range';
    this.topics = from?.topics ?? new Map();
    this.groups = from?.groups ?? new Map();
    this.subscribers = from?.subscribers ?? new Map();
    this.epochs = from?.epochs ?? new Map();
    this.shared = from?.shared ?? { memberSeq: 0 };
  }

  /**
   * Another client of the same in-memory "cluster" (same topics, groups and offsets), as a
   * second process connecting to the same brokers would be. `kill()` on it then simulates that
   * process dying.
   */
  connection(options: MemoryTransportOptions = {}): MemoryTransport {
    return new MemoryTransport(
      {
        autoCreateTopics: this.autoCreate,
        defaultPartitions: this.defaultPartitions,
        retainMessagesPerPartition: this.retain,
        assignmentStrategy: this.strategy,
        ...options,
      },
      this,
    );
  }

  /**
   * Simulates a crash of everything using this connection (kill -9): its consumers drop out of
   * their groups without `onRevoked` (as after a session timeout) and commit nothing more; its
   * producers fail every later send, commit and transaction. Partitions move to the survivors,
   * which resume from the last committed offsets.
   */
  kill(): void {
    this.dead = true;
    for (const c of this.consumers) c.kill();
  }

  async ensureTopics(specs: TopicSpec[]): Promise<void> {
    const created: string[] = [];
    for (const spec of specs) if (this.createTopic(spec)) created.push(spec.name);
    await this.rebalanceFor(created);
  }

  async deleteTopics(names: string[]): Promise<void> {
    for (const name of names) {
      this.topics.delete(name);
      for (const group of this.groups.values()) group.forgetTopic(name);
    }
    await this.rebalanceFor(names);
  }

  async partitionCount(topic: string): Promise<number> {
    return this.requireTopic(topic).partitions.length;
  }

  /** Synchronous variant for in-process callers (the test driver, the embedded runtime). */
  hasTopic(topic: string): boolean {
    return this.topics.has(topic);
  }

  async endOffsets(topic: string): Promise<TopicPartitionOffset[]> {
    return this.requireTopic(topic).partitions.map((p) => ({ topic, partition: p.partition, offset: p.end }));
  }

  async committedOffsets(groupId: string, topic: string): Promise<TopicPartitionOffset[]> {
    const t = this.requireTopic(topic);
    const group = this.groups.get(groupId);
    return t.partitions.map((p) => ({
      topic,
      partition: p.partition,
      offset: group?.committedOffset(topic, p.partition) ?? -1,
    }));
  }

  producer(options?: ProducerOptions): Producer {
    return new MemoryProducer(
      {
        append: (messages, rr, wantAcks) => {
          this.assertAlive();
          return this.append(messages, rr, wantAcks);
        },
        commitOffsets: (groupId, offsets) => {
          this.assertAlive();
          const group = this.group(groupId);
          for (const o of offsets) group.commit(o.topic, o.partition, o.offset);
        },
        claimTransactionalId: (id) => {
          const epoch = (this.epochs.get(id) ?? 0) + 1;
          this.epochs.set(id, epoch);
          return epoch;
        },
        currentEpoch: (id) => this.epochs.get(id),
      },
      options,
    );
  }

  consumer(options: ConsumerOptions): Consumer {
    const consumer = new MemoryConsumer(
      {
        group: (groupId) => this.group(groupId),
        alive: () => !this.dead,
        partitionLog: (topic, partition) => this.topics.get(topic)?.partitions[partition],
        subscribe: (c, topics) => {
          for (const topic of topics) {
            if (!this.topics.has(topic) && this.autoCreate) {
              this.createTopic({ name: topic, partitions: this.defaultPartitions });
            }
            let set = this.subscribers.get(topic);
            if (!set) {
              set = new Set();
              this.subscribers.set(topic, set);
            }
            set.add(c);
          }
        },
        unsubscribe: (c) => {
          for (const set of this.subscribers.values()) set.delete(c);
          this.consumers.delete(c);
        },
        nextMemberId: (groupId) => `${groupId}-member-${String(++this.shared.memberSeq).padStart(6, '0')}`,
      },
      options,
    );
    this.consumers.add(consumer);
    return consumer;
  }

  async *readPartition(topic: string, partition: number, fromOffset = 0): AsyncIterable<IncomingMessage[]> {
    const t = this.requireTopic(topic);
    const log = t.partitions[partition];
    if (!log) return;
    const all = log.snapshot(fromOffset);
    for (let i = 0; i < all.length; i += 10_000) yield all.slice(i, i + 10_000);
  }

  async close(): Promise<void> {
    await Promise.all([...this.consumers].map((c) => c.disconnect()));
  }

  /** The group object (for tests and diagnostics); created on first use. */
  group(groupId: string): MemoryGroup {
    let group = this.groups.get(groupId);
    if (!group) {
      group = new MemoryGroup(groupId, (topic) => this.topics.get(topic)?.partitions.length, this.strategy);
      this.groups.set(groupId, group);
    }
    return group;
  }

  private assertAlive(): void {
    if (this.dead)
      throw new LogFlowError('LF_ERR_TRANSPORT_UNAVAILABLE', 'this memory transport connection was killed');
  }

  private createTopic(spec: TopicSpec): boolean {
    if (this.topics.has(spec.name)) return false;
    if (!Number.isInteger(spec.partitions) || spec.partitions < 1) {
      throw new LogFlowError(
        'LF_ERR_CONFIG_INVALID',
        `topic ${spec.name}: partitions must be a positive integer`,
      );
    }
    const retainConfig = Number(spec.configs?.['retention.messages']);
    const retain = Number.isInteger(retainConfig) && retainConfig > 0 ? retainConfig : this.retain;
    const compacted = spec.compacted ?? spec.configs?.['cleanup.policy'] === 'compact';
    const partitions: PartitionLog[] = [];
    for (let p = 0; p < spec.partitions; p++)
      partitions.push(new PartitionLog(spec.name, p, compacted, retain));
    this.topics.set(spec.name, { name: spec.name, compacted, partitions });
    return true;
  }

  private requireTopic(name: string): MemoryTopic {
    const topic = this.topics.get(name);
    if (!topic) throw new LogFlowError('LF_ERR_TRANSPORT_UNKNOWN_TOPIC', `unknown topic ${name}`);
    return topic;
  }

  private topicForProduce(name: string): MemoryTopic {
    const topic = this.topics.get(name);
    if (topic) return topic;
    if (!this.autoCreate) throw new LogFlowError('LF_ERR_TRANSPORT_UNKNOWN_TOPIC', `unknown topic ${name}`);
    this.createTopic({ name, partitions: this.defaultPartitions });
    void this.rebalanceFor([name]);
    return this.topics.get(name)!;
  }

  private append(messages: OutgoingMessage[], roundRobin: { next: number }, wantAcks: boolean): RecordAck[] {
    const acks: RecordAck[] = wantAcks ? new Array(messages.length) : [];
    const now = Date.now();
    let lastTopic: MemoryTopic | undefined;
    const touched = new Set<string>();
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i];
      const topic = lastTopic && lastTopic.name === m.topic ? lastTopic : this.topicForProduce(m.topic);
      if (topic !== lastTopic) {
        touched.add(topic.name);
        lastTopic = topic;
      }
      const n = topic.partitions.length;
      let partition = m.partition;
      if (partition === undefined) {
        partition = m.key ? partitionForKey(m.key, n) : roundRobin.next++ % n;
      } else if (partition < 0 || partition >= n) {
        throw new LogFlowError(
          'LF_ERR_TRANSPORT_UNKNOWN_TOPIC',
          `topic ${m.topic} has no partition ${partition}`,
        );
      }
      const offset = topic.partitions[partition].append(
        m.key,
        m.value,
        m.timestamp ?? now,
        m.headers ?? EMPTY_HEADERS,
      );
      if (wantAcks) acks[i] = { topic: m.topic, partition, offset };
    }
    for (const name of touched) {
      const subs = this.subscribers.get(name);
      if (subs) for (const c of subs) c.wake();
    }
    return acks;
  }

  private async rebalanceFor(topics: string[]): Promise<void> {
    const affected = [...this.groups.values()].filter(
      (g) => g.size > 0 && topics.some((t) => g.subscribes(t)),
    );
    await Promise.all(affected.map((g) => g.rebalance()));
  }
}
