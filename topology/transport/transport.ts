/**
 * The one interface both transports implement: `KafkaTransport` (kafkajs, real brokers) and
 * `MemoryTransport` (in-process, used by the embedded mode and by tests). Both give the same
 * semantics: topics with partitions, per-partition ordering and offsets, consumer groups that
 * split partitions among members and rebalance when members join or leave, committed offsets
 * per group, transactions (read-process-write with offsets sent inside the transaction), and
 * log compaction for changelog topics.
 *
 * Offsets are plain numbers (safe up to 2^53). A committed offset is the NEXT offset to read,
 * as in Kafka (last processed offset + 1).
 */
import type { Headers } from '../record.ts';

/**
 * Whether `err` is a transport's report that the consumer group is re-forming (or has dropped this
 * member, or its coordinator moved): a commit that meets it is transient, not fatal — the offsets
 * stay committable and the partitions' next owner replays at most what was not committed.
 * Transports mark such errors with `details.rebalance = true` (the Kafka consumer classifies its
 * client's protocol errors); the runtime knows nothing of any client library.
 */
export function isRebalanceError(err: unknown): boolean {
  const details = (err as { details?: unknown } | null | undefined)?.details;
  return (details as { rebalance?: unknown } | undefined)?.rebalance === true;
}

export interface TopicSpec {
  name: string;
  partitions: number;
  /** `cleanup.policy=compact` — used by state-store changelogs. */
  compacted?: boolean;
  /** Extra broker-side topic configs (Kafka only; the memory transport ignores unknown ones). */
  configs?: Record<string, string>;
}

export interface OutgoingMessage {
  topic: string;
  key: Buffer | null;
  value: Buffer | null;
  /** Chosen from the key (murmur2, as Kafka's default partitioner) when omitted. */
  partition?: number;
  timestamp?: number;
  headers?: Headers;
}

export interface IncomingMessage {
  topic: string;
  partition: number;
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  timestamp: number;
  headers: Headers;
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface TopicPartitionOffset extends TopicPartition {
  /** The next offset to read. */
  offset: number;
}

export interface RecordAck extends TopicPartition {
  offset: number;
}

export interface Producer {
  connect(): Promise<void>;
  /** Resolves once every message is acknowledged (acks=all on Kafka). */
  send(messages: OutgoingMessage[]): Promise<RecordAck[]>;
  /** Only for producers created with a `transactionalId`. */
  transaction(): Promise<Transaction>;
  /** Idempotent. */
  disconnect(): Promise<void>;
}

export interface Transaction {
  send(messages: OutgoingMessage[]): Promise<void>;
  /** Commits consumed offsets atomically with the produced messages. */
  sendOffsets(groupId: string, offsets: TopicPartitionOffset[]): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
}

export interface Batch {
  topic: string;
  partition: number;
  messages: IncomingMessage[];
  /** High watermark of the partition when the batch was fetched (for lag). */
  highWatermark: number;
}

export interface ConsumerRunOptions {
  /**
   * Called with one partition's batch at a time; batches of one partition never overlap.
   * The consumer does NOT commit by itself: the caller commits once its outputs are acknowledged.
   */
  eachBatch(batch: Batch): Promise<void>;
  /** Partitions newly given to this member (restore state before processing them). */
  onAssigned?(partitions: TopicPartition[]): Promise<void>;
  /**
   * Partitions taken away (flush and commit them). `lost` when they were taken while this member
   * was out of the group (its session ended, or the group re-formed while it was idle): a commit
   * for them cannot succeed any more and their next owner may already be processing them.
   */
  onRevoked?(partitions: TopicPartition[], info?: RevokeInfo): Promise<void>;
}

export interface RevokeInfo {
  lost?: boolean;
}

export interface ConsumerOptions {
  groupId: string;
  /** Where a group with no committed offset starts. Default `earliest`. */
  fromBeginning?: boolean;
  /** Read only committed transactional data (exactly-once consumers). Default true. */
  readCommitted?: boolean;
  /** Upper bound on messages handed to one `eachBatch` call. */
  maxBatchSize?: number;
}

export interface Consumer {
  connect(): Promise<void>;
  subscribe(topics: string[]): Promise<void>;
  run(options: ConsumerRunOptions): Promise<void>;
  commit(offsets: TopicPartitionOffset[]): Promise<void>;
  /** Backpressure: stop fetching these partitions until resumed. */
  pause(partitions: TopicPartition[]): void;
  resume(partitions: TopicPartition[]): void;
  seek(position: TopicPartitionOffset): void;
  /** Leaves the group (its partitions move to the other members). Idempotent. */
  disconnect(): Promise<void>;
}

export interface ProducerOptions {
  transactionalId?: string;
  /** Kafka only: linger before sending a batch. */
  lingerMs?: number;
}

export interface Transport {
  readonly kind: 'kafka' | 'memory';
  /** Creates missing topics; existing topics are left as they are. */
  ensureTopics(specs: TopicSpec[]): Promise<void>;
  deleteTopics(names: string[]): Promise<void>;
  partitionCount(topic: string): Promise<number>;
  /** The next offset to be written, per partition. */
  endOffsets(topic: string): Promise<TopicPartitionOffset[]>;
  committedOffsets(groupId: string, topic: string): Promise<TopicPartitionOffset[]>;
  producer(options?: ProducerOptions): Producer;
  consumer(options: ConsumerOptions): Consumer;
  /** Reads a whole partition from `fromOffset` to its current end (used to restore state stores). */
  readPartition(topic: string, partition: number, fromOffset?: number): AsyncIterable<IncomingMessage[]>;
  close(): Promise<void>;
}
