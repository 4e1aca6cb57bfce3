/**
 * A consumer-group member on kafkajs, shaped to the Transport contract: batches per partition,
 * no auto-commit (the runtime commits once its outputs are acknowledged), pause/resume/seek, and
 * assignment callbacks.
 *
 * kafkajs has no rebalance listener. Assignment changes are derived from its GROUP_JOIN event
 * (emitted after every join+sync with this member's new assignment) by diffing against the
 * previous assignment: partitions that disappeared are "revoked", new ones "assigned". GROUP_JOIN
 * is emitted synchronously before kafkajs starts fetching for the new generation, and every batch
 * waits for the callbacks to finish (heartbeating meanwhile) before it is handed over — so state is
 * restored before a newly assigned partition's first record is processed.
 *
 * Consequence: `onRevoked` runs after the group has already re-formed, when committing the revoked
 * partitions is no longer possible. The runtime must therefore commit within `eachBatch` (or before
 * it returns control): kafkajs only notices a rebalance at a heartbeat after a batch completes, so a
 * batch that commits before returning never loses its commit to a rebalance. `onRevoked` is for
 * dropping state of partitions that moved. On `disconnect()`, `onRevoked` runs while the member is
 * still in the group, so a final commit there succeeds.
 */
import type { EachBatchPayload, Kafka, Batch as KafkaJsBatch, Consumer as KafkaJsConsumer } from 'kafkajs';
import { createLogger } from '../../common/logger.ts';
import type { Headers } from '../record.ts';
import { toLogFlowError } from './kafka-errors.ts';
import type {
  Consumer,
  ConsumerOptions,
  ConsumerRunOptions,
  IncomingMessage,
  TopicPartition,
  TopicPartitionOffset,
} from './transport.ts';

const log = createLogger('kafka-consumer');

/** Tuning of kafkajs consumers (transport-wide, not part of the Transport contract). */
export interface KafkaConsumerTuning {
  /** A member that sends no heartbeat for this long is removed and its partitions move. Default 10 s. */
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /** How long the broker may hold a fetch waiting for data. Default 100 ms. */
  maxWaitTimeMs?: number;
  maxBytesPerPartition?: number;
  maxBytes?: number;
  /** Batches of different partitions processed at the same time. Default 4. */
  partitionsConsumedConcurrently?: number;
}

const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

function groupByTopic(partitions: TopicPartition[]): { topic: string; partitions: number[] }[] {
  const byTopic = new Map<string, number[]>();
  for (const { topic, partition } of partitions) {
    const list = byTopic.get(topic);
    if (list) list.push(partition);
    else byTopic.set(topic, [partition]);
  }
  return [...byTopic].map(([topic, list]) => ({ topic, partitions: list }));
}

function toHeaders(raw: KafkaJsBatch['messages'][number]['headers']): Headers {
  if (!raw) return {};
  let out: Headers | undefined;
  for (const name in raw) {
    const v = raw[name];
    if (Buffer.isBuffer(v)) continue;
    out ??= { ...(raw as Headers) };
    if (v === undefined) delete out[name];
    else out[name] = Buffer.isBuffer(v) ? v : Buffer.from(Array.isArray(v) ? String(v[v.length - 1]) : v);
  }
  return out ?? (raw as Headers);
}

/** Converts one kafkajs batch into the contract's IncomingMessage list. */
export function toIncoming(batch: KafkaJsBatch): IncomingMessage[] {
  const { topic, partition } = batch;
  const src = batch.messages;
  const out: IncomingMessage[] = new Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const m = src[i];
    out[i] = {
      topic,
      partition,
      offset: Number(m.offset),
      key: m.key ?? null,
      value: m.value ?? null,
      timestamp: Number(m.timestamp),
      headers: toHeaders(m.headers),
    };
  }
  return out;
}

export class KafkaConsumer implements Consumer {
  private readonly consumer: KafkaJsConsumer;
  private readonly options: ConsumerOptions;
  private assignment = new Map<string, TopicPartition>();
  /** The pending onRevoked/onAssigned calls of the latest join; batches wait for it. */
  private rebalancing: Promise<void> | undefined;
  private rebalanceError: unknown;
  private run_: ConsumerRunOptions | undefined;
  private inFlight = 0;
  private drained: (() => void) | undefined;
  private closing = false;
  private connected = false;
  private disconnected: Promise<void> | undefined;

  constructor(kafka: Kafka, options: ConsumerOptions, tuning: KafkaConsumerTuning = {}) {
    this.options = options;
    this.consumer = kafka.consumer({
      groupId: options.groupId,
      readUncommitted: options.readCommitted === false,
      sessionTimeout: tuning.sessionTimeoutMs ?? 10_000,
      heartbeatInterval: tuning.heartbeatIntervalMs ?? 1_000,
      rebalanceTimeout: 30_000,
      maxWaitTimeInMs: tuning.maxWaitTimeMs ?? 100,
      maxBytesPerPartition: tuning.maxBytesPerPartition ?? 2 * 1024 * 1024,
      maxBytes: tuning.maxBytes ?? 16 * 1024 * 1024,
      allowAutoTopicCreation: false,
    });
    this.partitionsConsumedConcurrently = tuning.partitionsConsumedConcurrently ?? 4;
    const { GROUP_JOIN, CRASH } = this.consumer.events;
    this.consumer.on(GROUP_JOIN, ({ payload }) => this.onJoin(payload.memberAssignment));
    this.consumer.on(CRASH, ({ payload }) => {
      log.error(
        { groupId: options.groupId, err: payload.error, restart: payload.restart },
        'consumer crashed',
      );
      // kafkajs rejoins after a crash; treat everything as newly assigned then, so state is rebuilt.
      this.onJoin({});
    });
  }

  private readonly partitionsConsumedConcurrently: number;

  async connect(): Promise<void> {
    try {
      await this.consumer.connect();
      this.connected = true;
    } catch (err) {
      throw toLogFlowError(err, `consumer connect (group ${this.options.groupId})`);
    }
  }

  async subscribe(topics: string[]): Promise<void> {
    try {
      await this.consumer.subscribe({ topics, fromBeginning: this.options.fromBeginning ?? true });
    } catch (err) {
      throw toLogFlowError(err, `subscribe to ${topics.join(', ')}`);
    }
  }

  async run(options: ConsumerRunOptions): Promise<void> {
    this.run_ = options;
    const max = this.options.maxBatchSize ?? Number.POSITIVE_INFINITY;
    try {
      await this.consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: true,
        partitionsConsumedConcurrently: this.partitionsConsumedConcurrently,
        eachBatch: (payload) => this.handleBatch(payload, max),
      });
    } catch (err) {
      throw toLogFlowError(err, `consumer run (group ${this.options.groupId})`);
    }
  }

  private async handleBatch(payload: EachBatchPayload, max: number): Promise<void> {
    const { batch, heartbeat, isRunning, isStale } = payload;
    this.inFlight++;
    try {
      if (this.rebalancing) await this.awaitRebalance(heartbeat);
      if (this.closing || !isRunning() || isStale()) return;
      if (!this.assignment.has(tpKey(batch.topic, batch.partition))) return;
      const messages = toIncoming(batch);
      if (messages.length === 0) return;
      const highWatermark = Number(batch.highWatermark);
      const eachBatch = this.run_!.eachBatch;
      if (messages.length <= max) {
        await eachBatch({ topic: batch.topic, partition: batch.partition, messages, highWatermark });
      } else {
        for (let i = 0; i < messages.length && !this.closing && !isStale(); i += max) {
          await eachBatch({
            topic: batch.topic,
            partition: batch.partition,
            messages: messages.slice(i, i + max),
            highWatermark,
          });
        }
      }
    } finally {
      this.inFlight--;
      if (this.inFlight === 0 && this.drained) this.drained();
    }
  }

  /** Waits for the assignment callbacks, heartbeating so a long restore does not cost the membership. */
  private async awaitRebalance(heartbeat: () => Promise<void>): Promise<void> {
    for (;;) {
      const pending = this.rebalancing;
      if (!pending) break;
      let timer: NodeJS.Timeout | undefined;
      const done = await Promise.race([
        pending.then(() => true),
        new Promise<false>((r) => {
          timer = setTimeout(() => r(false), 1_000);
        }),
      ]);
      clearTimeout(timer);
      if (done) {
        if (this.rebalancing === pending) this.rebalancing = undefined;
      } else {
        await heartbeat();
      }
    }
    if (this.rebalanceError) {
      const err = this.rebalanceError;
      this.rebalanceError = undefined;
      // kafkajs retries the batch, then restarts the consumer, which rejoins and re-runs onAssigned.
      throw err;
    }
  }

  private onJoin(memberAssignment: Record<string, number[]>): void {
    const next = new Map<string, TopicPartition>();
    for (const topic in memberAssignment) {
      for (const partition of memberAssignment[topic])
        next.set(tpKey(topic, partition), { topic, partition });
    }
    const revoked = [...this.assignment].filter(([k]) => !next.has(k)).map(([, tp]) => tp);
    const assigned = [...next].filter(([k]) => !this.assignment.has(k)).map(([, tp]) => tp);
    this.assignment = next;
    if (revoked.length === 0 && assigned.length === 0) return;
    log.debug({ groupId: this.options.groupId, revoked, assigned }, 'assignment changed');
    const previous = this.rebalancing ?? Promise.resolve();
    const run = this.run_;
    this.rebalancing = previous.then(async () => {
      try {
        if (revoked.length && run?.onRevoked) await run.onRevoked(revoked);
        if (assigned.length && run?.onAssigned) await run.onAssigned(assigned);
      } catch (err) {
        log.error({ groupId: this.options.groupId, err }, 'assignment callback failed');
        this.rebalanceError = err;
        // Forget the assignment so the next join treats these partitions as new and retries.
        for (const tp of assigned) this.assignment.delete(tpKey(tp.topic, tp.partition));
      }
    });
  }

  /** Partitions currently assigned to this member. */
  assignedPartitions(): TopicPartition[] {
    return [...this.assignment.values()];
  }

  async commit(offsets: TopicPartitionOffset[]): Promise<void> {
    if (offsets.length === 0) return;
    try {
      await this.consumer.commitOffsets(
        offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: String(o.offset) })),
      );
    } catch (err) {
      throw toLogFlowError(err, `commit offsets (group ${this.options.groupId})`);
    }
  }

  pause(partitions: TopicPartition[]): void {
    if (partitions.length) this.consumer.pause(groupByTopic(partitions));
  }

  resume(partitions: TopicPartition[]): void {
    if (partitions.length) this.consumer.resume(groupByTopic(partitions));
  }

  seek(position: TopicPartitionOffset): void {
    this.consumer.seek({
      topic: position.topic,
      partition: position.partition,
      offset: String(position.offset),
    });
  }

  disconnect(): Promise<void> {
    this.disconnected ??= this.close();
    return this.disconnected;
  }

  private async close(): Promise<void> {
    this.closing = true;
    if (this.inFlight > 0) await new Promise<void>((r) => (this.drained = r));
    await this.rebalancing?.catch(() => {});
    const owned = this.assignedPartitions();
    if (owned.length && this.run_?.onRevoked) {
      // Still a member here: the runtime's final commit for these partitions can succeed.
      await this.run_
        .onRevoked(owned)
        .catch((err) => log.error({ err }, 'onRevoked failed during disconnect'));
    }
    this.assignment.clear();
    if (this.connected)
      await this.consumer.disconnect().catch((err) => log.warn({ err }, 'disconnect failed'));
  }
}
