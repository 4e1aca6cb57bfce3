/**
 * The Transport on real Kafka brokers (kafkajs 2.2.4).
 *
 * Lifecycle: construct with the brokers, then use; the admin connection opens on first use.
 * Producers and consumers made here are connected by their owners and must be disconnected by
 * them; `close()` disconnects the admin client and any producer/consumer still open (idempotent).
 *
 * Delivery: producers are idempotent with acks=all; transactional when given a transactionalId.
 * Consumers read committed data only by default and never commit on their own.
 */
// First: kafkajs must bind the linear per-partition grouping (see the module).
import './kafkajs-linear-grouping.ts';
import { type Admin, Kafka } from 'kafkajs';
import { loadConfig } from '../../common/config.ts';
import { LogFlowError } from '../../common/errors.ts';
import { KafkaConsumer, type KafkaConsumerTuning } from './kafka-consumer.ts';
import { isKafkaErrorType, toLogFlowError } from './kafka-errors.ts';
import { kafkaLogLevel, pinoLogCreator } from './kafka-logger.ts';
import { readPartition } from './kafka-partition-reader.ts';
import { KafkaProducer } from './kafka-producer.ts';
import type {
  Consumer,
  ConsumerOptions,
  IncomingMessage,
  Producer,
  ProducerOptions,
  TopicPartitionOffset,
  TopicSpec,
  Transport,
} from './transport.ts';

function onlyAlreadyExists(err: unknown): boolean {
  const errors = (err as { errors?: unknown[] })?.errors;
  if (Array.isArray(errors) && errors.length > 0) {
    return errors.every((e) => isKafkaErrorType(e, 'TOPIC_ALREADY_EXISTS'));
  }
  return isKafkaErrorType(err, 'TOPIC_ALREADY_EXISTS');
}

export interface KafkaTransportOptions {
  /** Default: the config's KAFKA_BROKERS (127.0.0.1:9092). */
  brokers?: string[];
  clientId?: string;
  /** Replication factor of created topics. Default 1 (the single-node broker `logflow services up` runs). */
  replicationFactor?: number;
  consumer?: KafkaConsumerTuning;
  /** Transaction timeout for transactional producers (ms). */
  transactionTimeoutMs?: number;
}

export class KafkaTransport implements Transport {
  readonly kind = 'kafka' as const;
  readonly kafka: Kafka;
  private readonly options: KafkaTransportOptions;
  private adminClient: Admin | undefined;
  private adminConnected: Promise<Admin> | undefined;
  private readonly partitions = new Map<string, Promise<number>>();
  private readonly open = new Set<{ disconnect(): Promise<void> }>();
  private closed = false;

  constructor(options: KafkaTransportOptions = {}) {
    this.options = options;
    this.kafka = new Kafka({
      clientId: options.clientId ?? 'logflow',
      brokers: options.brokers ?? loadConfig().kafkaBrokers,
      logLevel: kafkaLogLevel(),
      logCreator: pinoLogCreator,
      connectionTimeout: 3_000,
      requestTimeout: 30_000,
      retry: { initialRetryTime: 100, retries: 8 },
    });
  }

  /** The shared admin client, connected once. */
  admin(): Promise<Admin> {
    if (this.closed)
      return Promise.reject(new LogFlowError('LF_ERR_TRANSPORT_UNAVAILABLE', 'transport is closed'));
    this.adminConnected ??= (async () => {
      this.adminClient = this.kafka.admin();
      try {
        await this.adminClient.connect();
      } catch (err) {
        this.adminConnected = undefined;
        throw toLogFlowError(err, 'admin connect');
      }
      return this.adminClient;
    })();
    return this.adminConnected;
  }

  async ensureTopics(specs: TopicSpec[]): Promise<void> {
    if (specs.length === 0) return;
    const admin = await this.admin();
    let missing: TopicSpec[];
    try {
      const existing = new Set(await admin.listTopics());
      missing = specs.filter((s) => !existing.has(s.name));
    } catch (err) {
      throw toLogFlowError(err, 'list topics');
    }
    if (missing.length === 0) return;
    try {
      await admin.createTopics({
        waitForLeaders: false,
        topics: missing.map((s) => ({
          topic: s.name,
          numPartitions: s.partitions,
          replicationFactor: this.options.replicationFactor ?? 1,
          configEntries: Object.entries({
            ...(s.compacted ? { 'cleanup.policy': 'compact' } : {}),
            ...s.configs,
          }).map(([name, value]) => ({ name, value })),
        })),
      });
    } catch (err) {
      // Created concurrently by another instance: fine, "existing topics are left as they are".
      if (!onlyAlreadyExists(err)) throw toLogFlowError(err, 'create topics');
    }
    await this.waitForLeaders(
      admin,
      missing.map((s) => s.name),
    );
    for (const s of specs) this.partitions.delete(s.name);
  }

  /** New topics are usable once every partition has a leader in the metadata. */
  private async waitForLeaders(admin: Admin, topics: string[]): Promise<void> {
    const deadline = Date.now() + 30_000;
    let lastError: unknown;
    while (Date.now() < deadline) {
      try {
        const { topics: meta } = await admin.fetchTopicMetadata({ topics });
        if (meta.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return;
      } catch (err) {
        lastError = err;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw toLogFlowError(lastError ?? new Error('no leaders'), `wait for leaders of ${topics.join(', ')}`);
  }

  async deleteTopics(names: string[]): Promise<void> {
    if (names.length === 0) return;
    const admin = await this.admin();
    try {
      await admin.deleteTopics({ topics: names, timeout: 10_000 });
    } catch (err) {
      if (!isKafkaErrorType(err, 'UNKNOWN_TOPIC_OR_PARTITION')) throw toLogFlowError(err, 'delete topics');
    }
    for (const n of names) this.partitions.delete(n);
  }

  /** Cached: partition counts of existing topics only grow, and LogFlow never grows them at runtime. */
  partitionCount(topic: string): Promise<number> {
    let pending = this.partitions.get(topic);
    if (!pending) {
      pending = this.fetchPartitionCount(topic);
      pending.catch(() => this.partitions.delete(topic));
      this.partitions.set(topic, pending);
    }
    return pending;
  }

  private async fetchPartitionCount(topic: string): Promise<number> {
    const admin = await this.admin();
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      const n = topics[0]?.partitions.length ?? 0;
      if (n === 0) throw new LogFlowError('LF_ERR_TRANSPORT_UNKNOWN_TOPIC', `unknown topic ${topic}`);
      return n;
    } catch (err) {
      throw toLogFlowError(err, `metadata of ${topic}`);
    }
  }

  /** End offsets as read_committed consumers see them (the last stable offset). */
  async endOffsets(topic: string): Promise<TopicPartitionOffset[]> {
    const admin = await this.admin();
    try {
      const offsets = await admin.fetchTopicOffsets(topic);
      return offsets
        .map((o) => ({ topic, partition: o.partition, offset: Number(o.offset) }))
        .sort((a, b) => a.partition - b.partition);
    } catch (err) {
      throw toLogFlowError(err, `end offsets of ${topic}`);
    }
  }

  /** Committed offsets of `groupId` on `topic`; partitions with no commit are left out. */
  async committedOffsets(groupId: string, topic: string): Promise<TopicPartitionOffset[]> {
    const admin = await this.admin();
    try {
      const [result] = await admin.fetchOffsets({ groupId, topics: [topic] });
      return (result?.partitions ?? [])
        .filter((p) => Number(p.offset) >= 0)
        .map((p) => ({ topic, partition: p.partition, offset: Number(p.offset) }))
        .sort((a, b) => a.partition - b.partition);
    } catch (err) {
      throw toLogFlowError(err, `committed offsets of ${groupId}`);
    }
  }

  producer(options: ProducerOptions = {}): Producer {
    const producer = new KafkaProducer(this.kafka, {
      ...options,
      transactionTimeoutMs: this.options.transactionTimeoutMs,
      partitionCount: (topic) => this.partitionCount(topic),
    });
    return this.track(producer);
  }

  consumer(options: ConsumerOptions): Consumer {
    return this.track(new KafkaConsumer(this.kafka, options, this.options.consumer));
  }

  async *readPartition(topic: string, partition: number, fromOffset = 0): AsyncIterable<IncomingMessage[]> {
    const admin = await this.admin();
    yield* readPartition(this.kafka, admin, topic, partition, fromOffset);
  }

  /** Removes a consumer group (e.g. a test's), once it has no members. */
  async deleteGroups(groupIds: string[]): Promise<void> {
    const admin = await this.admin();
    await admin.deleteGroups(groupIds).catch(() => {});
  }

  async close(): Promise<void> {
    if (this.closed) return;
    const open = [...this.open];
    this.open.clear();
    await Promise.allSettled(open.map((c) => c.disconnect()));
    const admin = this.adminConnected;
    this.closed = true;
    if (admin) await (await admin.catch(() => undefined))?.disconnect();
  }

  private track<T extends { disconnect(): Promise<void> }>(client: T): T {
    this.open.add(client);
    const disconnect = client.disconnect.bind(client);
    client.disconnect = async () => {
      this.open.delete(client);
      await disconnect();
    };
    return client;
  }
}
