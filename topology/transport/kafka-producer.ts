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
  Partitioners,
} from 'kafkajs';
import { LogFlowError } from '../../common/errors.ts';
import { isKafkaErrorType, toLogFlowError } from './kafka-errors.ts';
import {
  approximateSize,
  assignPartitions,
  fillAcks,
  planProduce,
  toTopicMessages,
} from './kafka-produce-batch.ts';
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

interface QueuedSend {
  messages: OutgoingMessage[];
  resolve(acks: RecordAck[]): void;
  reject(err: unknown): void;
}

/** Most bytes of queued sends coalesced into one `sendInOrder` (several requests when a partition fills). */
const MAX_COALESCED_BYTES = 8 * 1024 * 1024;

/** Takes the first queued sends, in order, up to MAX_COALESCED_BYTES (always at least one). */
function takeCoalesced(queue: QueuedSend[]): QueuedSend[] {
  if (queue.length === 1) return queue.splice(0, 1);
  let bytes = 0;
  let n = 0;
  while (n < queue.length) {
    let size = 0;
    for (const m of queue[n].messages) size += approximateSize(m);
    if (n > 0 && bytes + size > MAX_COALESCED_BYTES) break;
    bytes += size;
    n++;
  }
  return queue.splice(0, n);
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

  /** Sends waiting for the one in flight; they leave together, as one request when they fit. */
  private queue: QueuedSend[] = [];
  private sending = false;

  /**
   * Kafka promises one producer's records stay in order per partition. Concurrent kafkajs
   * `sendBatch` calls do not keep that promise (their async steps can let a later call reach the
   * broker first — seen as a state-store changelog whose last two updates landed swapped, so a
   * restore went back one batch). So one request is in flight at a time; the sends made meanwhile
   * are queued and then go out together, in call order, in as few requests as the broker's
   * per-partition batch limit allows. With acks=all a request costs a replication round trip
   * whatever its size, so coalescing is what keeps one-at-a-time sending fast.
   */
  send(messages: OutgoingMessage[]): Promise<RecordAck[]> {
    if (messages.length === 0) return Promise.resolve([]);
    return new Promise<RecordAck[]>((resolve, reject) => {
      this.queue.push({ messages, resolve, reject });
      if (!this.sending) void this.sendQueued();
    });
  }

  private async sendQueued(): Promise<void> {
    this.sending = true;
    try {
      while (this.queue.length > 0) {
        const group = takeCoalesced(this.queue);
        const all = group.length === 1 ? group[0].messages : group.flatMap((q) => q.messages);
        let acks: RecordAck[];
        try {
          acks = await this.sendInOrder(all);
        } catch (err) {
          for (const q of group) q.reject(err);
          continue;
        }
        let at = 0;
        for (const q of group) {
          q.resolve(group.length === 1 ? acks : acks.slice(at, at + q.messages.length));
          at += q.messages.length;
        }
      }
    } finally {
      this.sending = false;
    }
  }

  private async sendInOrder(messages: OutgoingMessage[]): Promise<RecordAck[]> {
    await this.connect();
    const partitions = await assignPartitions(messages, this.options.partitionCount);
    const plan = planProduce(messages, partitions);
    const acks: RecordAck[] = new Array(messages.length);
    let start = 0;
    for (const end of plan.ends) {
      try {
        const meta = await this.producer.sendBatch({
          topicMessages: toTopicMessages(messages, partitions, start, end),
          acks: -1,
          compression: CompressionTypes.None,
        });
        fillAcks(acks, messages, plan, meta, start, end);
      } catch (err) {
        throw toLogFlowError(err, 'produce');
      }
      start = end;
    }
    return acks;
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
    if (messages.length === 0) return;
    const partitions = await assignPartitions(messages, this.partitionCount);
    let start = 0;
    for (const end of planProduce(messages, partitions).ends) {
      try {
        await this.txn.sendBatch({
          topicMessages: toTopicMessages(messages, partitions, start, end),
          acks: -1,
          compression: CompressionTypes.None,
        });
      } catch (err) {
        throw toLogFlowError(err, 'transactional produce');
      }
      start = end;
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
