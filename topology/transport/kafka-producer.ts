/**
 * Producers on kafkajs: idempotent (acks=all) by default, transactional when given a
 * `transactionalId`.
 *
 * Partitions are chosen here, before sending, with kafkajs' Java-compatible default partitioner
 * (murmur2 of the key; round-robin without a key), so `send` can tell the offset of every record
 * from the per-partition base offsets the broker returns.
 *
 * Transactions retry CONCURRENT_TRANSACTIONS around `sendOffsets` (kafkajs only retries it inside
 * `send`): a transaction started right after a commit meets it while the coordinator still writes
 * the previous transaction's markers. A failed commit or abort leaves the kafkajs producer unusable
 * (its state machine is stuck), so the producer is recreated — which re-initialises the producer id
 * and makes the broker abort whatever the failed transaction left open.
 */
// First: kafkajs must bind the linear per-partition grouping (see the module).
import './kafkajs-linear-grouping.ts';
import {
  CompressionTypes,
  type Kafka,
  type Producer as KafkaJsProducer,
  type Transaction as KafkaJsTransaction,
  type Message,
  Partitioners,
  type RecordMetadata,
  type TopicMessages,
} from 'kafkajs';
import { LogFlowError } from '../../common/errors.ts';
import { isKafkaErrorType, toLogFlowError } from './kafka-errors.ts';
import type {
  OutgoingMessage,
  Producer,
  ProducerOptions,
  RecordAck,
  TopicPartitionOffset,
  Transaction,
} from './transport.ts';

export interface KafkaProducerOptions extends ProducerOptions {
  /** Partition count of a topic (cached by the transport). */
  partitionCount(topic: string): Promise<number>;
  /** Transaction timeout (ms) for transactional producers. Default 60 s. */
  transactionTimeoutMs?: number;
}

const partitioner = Partitioners.DefaultPartitioner();
const fakeMetadata = new Map<number, { partitionId: number; leader: number }[]>();
function metadataOf(count: number) {
  let list = fakeMetadata.get(count);
  if (!list) {
    list = Array.from({ length: count }, (_, partitionId) => ({
      partitionId,
      leader: 0,
      partitionErrorCode: 0,
      replicas: [0],
      isr: [0],
    }));
    fakeMetadata.set(count, list);
  }
  return list;
}

/** Turns our messages into kafkajs topic batches with explicit partitions; fills `partitions`. */
async function toTopicMessages(
  messages: OutgoingMessage[],
  partitions: Int32Array,
  partitionCount: (topic: string) => Promise<number>,
): Promise<TopicMessages[]> {
  const byTopic = new Map<string, Message[]>();
  let counts: Map<string, number> | undefined;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i];
    let partition = m.partition;
    if (partition === undefined) {
      counts ??= new Map();
      let n = counts.get(m.topic);
      if (n === undefined) {
        n = await partitionCount(m.topic);
        counts.set(m.topic, n);
      }
      partition = partitioner({
        topic: m.topic,
        partitionMetadata: metadataOf(n) as never,
        message: { key: m.key, value: m.value },
      });
    }
    partitions[i] = partition;
    let list = byTopic.get(m.topic);
    if (!list) {
      list = [];
      byTopic.set(m.topic, list);
    }
    list.push({
      key: m.key,
      value: m.value,
      partition,
      timestamp: m.timestamp === undefined ? undefined : String(m.timestamp),
      headers: m.headers,
    });
  }
  const out: TopicMessages[] = [];
  for (const [topic, list] of byTopic) out.push({ topic, messages: list });
  return out;
}

/**
 * kafkajs sends all records of one partition in one record batch and never splits it, while the
 * broker refuses batches over `message.max.bytes` (1 MiB by default) — so large sends are cut
 * into chunks of at most this many bytes, sent one after the other (order per partition is kept).
 */
const MAX_CHUNK_BYTES = 900 * 1024;

function approximateSize(m: OutgoingMessage): number {
  let size = 24 + (m.key?.length ?? 0) + (m.value?.length ?? 0);
  if (m.headers) for (const name in m.headers) size += name.length + m.headers[name].length + 4;
  return size;
}

/** Splits `messages` into runs of at most MAX_CHUNK_BYTES (a single larger record travels alone). */
export function chunkBySize(messages: OutgoingMessage[], maxBytes = MAX_CHUNK_BYTES): OutgoingMessage[][] {
  const chunks: OutgoingMessage[][] = [];
  let start = 0;
  let bytes = 0;
  for (let i = 0; i < messages.length; i++) {
    const size = approximateSize(messages[i]);
    if (bytes + size > maxBytes && i > start) {
      chunks.push(messages.slice(start, i));
      start = i;
      bytes = 0;
    }
    bytes += size;
  }
  if (start === 0) return [messages];
  chunks.push(messages.slice(start));
  return chunks;
}

/** Per-record acks from the broker's per-partition base offsets (records keep their order per partition). */
function toAcks(messages: OutgoingMessage[], partitions: Int32Array, meta: RecordMetadata[]): RecordAck[] {
  const next = new Map<string, number>();
  for (const r of meta) next.set(`${r.topicName}\u0000${r.partition}`, Number(r.baseOffset));
  const acks: RecordAck[] = new Array(messages.length);
  for (let i = 0; i < messages.length; i++) {
    const key = `${messages[i].topic}\u0000${partitions[i]}`;
    const offset = next.get(key) ?? -1;
    if (offset >= 0) next.set(key, offset + 1);
    acks[i] = { topic: messages[i].topic, partition: partitions[i], offset };
  }
  return acks;
}

const CONCURRENT_TXN_RETRIES = 50;

/** Retries `fn` while the coordinator still finishes the previous transaction. */
async function retryConcurrentTransactions<T>(fn: () => Promise<T>): Promise<T> {
  let delay = 5;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= CONCURRENT_TXN_RETRIES || !isKafkaErrorType(err, 'CONCURRENT_TRANSACTIONS')) throw err;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 200);
    }
  }
}

export class KafkaProducer implements Producer {
  private producer: KafkaJsProducer;
  private connected: Promise<void> | undefined;
  /** Set once another producer with our transactionalId fenced us: no transaction can succeed again. */
  private fenced: LogFlowError | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly options: KafkaProducerOptions,
  ) {
    this.producer = this.create();
  }

  private create(): KafkaJsProducer {
    const transactional = this.options.transactionalId !== undefined;
    return this.kafka.producer({
      idempotent: true,
      // Idempotence in kafkajs keeps sequence numbers per partition and needs one request in flight.
      maxInFlightRequests: 1,
      transactionalId: this.options.transactionalId,
      transactionTimeout: this.options.transactionTimeoutMs ?? 60_000,
      allowAutoTopicCreation: false,
      // Partitions are chosen before sending (see toTopicMessages); naming the partitioner also
      // silences kafkajs' v2 partitioner-change warning.
      createPartitioner: Partitioners.DefaultPartitioner,
      // Short first retry: CONCURRENT_TRANSACTIONS on AddPartitionsToTxn clears within milliseconds.
      retry: transactional
        ? { initialRetryTime: 10, maxRetryTime: 1_000, retries: Number.MAX_SAFE_INTEGER }
        : { initialRetryTime: 100, retries: Number.MAX_SAFE_INTEGER, maxRetryTime: 5_000 },
    });
  }

  connect(): Promise<void> {
    this.connected ??= this.producer.connect().catch((err) => {
      this.connected = undefined;
      throw toLogFlowError(err, 'producer connect');
    });
    return this.connected;
  }

  /** The previous send, settled or not: sends run one after the other (see `send`). */
  private previousSend: Promise<unknown> = Promise.resolve();

  /**
   * Kafka promises one producer's records stay in order per partition. Concurrent kafkajs
   * `sendBatch` calls do not keep that promise (their async steps can let a later call reach the
   * broker first — seen as a state-store changelog whose last two updates landed swapped, so a
   * restore went back one batch). So each send starts once the previous one is acknowledged.
   */
  send(messages: OutgoingMessage[]): Promise<RecordAck[]> {
    if (messages.length === 0) return Promise.resolve([]);
    const run = this.previousSend.then(() => this.sendInOrder(messages));
    this.previousSend = run.catch(() => {});
    return run;
  }

  private async sendInOrder(messages: OutgoingMessage[]): Promise<RecordAck[]> {
    await this.connect();
    const chunks = chunkBySize(messages);
    if (chunks.length === 1) return this.sendChunk(messages);
    const acks: RecordAck[] = [];
    for (const chunk of chunks) acks.push(...(await this.sendChunk(chunk)));
    return acks;
  }

  private async sendChunk(messages: OutgoingMessage[]): Promise<RecordAck[]> {
    const partitions = new Int32Array(messages.length);
    const topicMessages = await toTopicMessages(messages, partitions, this.options.partitionCount);
    try {
      const meta = await this.producer.sendBatch({
        topicMessages,
        acks: -1,
        compression: CompressionTypes.None,
      });
      return toAcks(messages, partitions, meta);
    } catch (err) {
      throw toLogFlowError(err, 'produce');
    }
  }

  async transaction(): Promise<Transaction> {
    if (this.options.transactionalId === undefined) {
      throw new LogFlowError(
        'LF_ERR_CONFIG_INVALID',
        'transaction() needs a producer created with a transactionalId',
      );
    }
    if (this.fenced) throw this.fenced;
    await this.connect();
    let txn: KafkaJsTransaction;
    try {
      txn = await retryConcurrentTransactions(() => this.producer.transaction());
    } catch (err) {
      throw toLogFlowError(err, 'begin transaction');
    }
    return new KafkaTransactionImpl(txn, this.options.partitionCount, (error) => this.reset(error));
  }

  /** Replaces a kafkajs producer whose transaction state machine is stuck after a failed commit/abort. */
  private async reset(error: LogFlowError): Promise<void> {
    if ((error.details as { fenced?: boolean } | undefined)?.fenced) {
      // Re-initialising would fence the instance that legitimately took over; stay dead instead.
      this.fenced = error;
      return;
    }
    const old = this.producer;
    this.producer = this.create();
    this.connected = undefined;
    await old.disconnect().catch(() => {});
  }

  async disconnect(): Promise<void> {
    const connected = this.connected;
    this.connected = undefined;
    if (!connected) return;
    await connected.catch(() => {});
    await this.producer.disconnect().catch(() => {});
  }
}

class KafkaTransactionImpl implements Transaction {
  constructor(
    private readonly txn: KafkaJsTransaction,
    private readonly partitionCount: (topic: string) => Promise<number>,
    private readonly reset: (error: LogFlowError) => Promise<void>,
  ) {}

  async send(messages: OutgoingMessage[]): Promise<void> {
    for (const chunk of chunkBySize(messages)) {
      if (chunk.length === 0) continue;
      const partitions = new Int32Array(chunk.length);
      const topicMessages = await toTopicMessages(chunk, partitions, this.partitionCount);
      try {
        await this.txn.sendBatch({ topicMessages, acks: -1, compression: CompressionTypes.None });
      } catch (err) {
        throw toLogFlowError(err, 'transactional produce');
      }
    }
  }

  async sendOffsets(groupId: string, offsets: TopicPartitionOffset[]): Promise<void> {
    if (offsets.length === 0) return;
    const byTopic = new Map<string, { partition: number; offset: string }[]>();
    for (const o of offsets) {
      let list = byTopic.get(o.topic);
      if (!list) {
        list = [];
        byTopic.set(o.topic, list);
      }
      list.push({ partition: o.partition, offset: String(o.offset) });
    }
    const topics = [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
    try {
      await retryConcurrentTransactions(() => this.txn.sendOffsets({ consumerGroupId: groupId, topics }));
    } catch (err) {
      throw toLogFlowError(err, 'send offsets to transaction');
    }
  }

  async commit(): Promise<void> {
    try {
      await this.txn.commit();
    } catch (err) {
      const error = toLogFlowError(err, 'commit transaction');
      await this.reset(error);
      throw error;
    }
  }

  async abort(): Promise<void> {
    try {
      await this.txn.abort();
    } catch (err) {
      // Re-initialising the producer id (on the next transaction) aborts it on the broker.
      const error = toLogFlowError(err, 'abort transaction');
      await this.reset(error);
      throw error;
    }
  }
}
