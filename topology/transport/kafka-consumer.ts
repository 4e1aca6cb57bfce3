/**
 * A consumer-group member on kafkajs, shaped to the Transport contract: batches per partition,
 * no auto-commit (the runtime commits once its outputs are acknowledged), pause/resume/seek, and
 * assignment callbacks.
 *
 * kafkajs has no rebalance listener, so the callbacks are built from two observations:
 *
 * - While batches flow, each one ends with a heartbeat asked for from inside our batch handler.
 *   When it answers that the group is re-forming, every owned partition is revoked right there —
 *   before kafkajs rejoins, while this member still belongs to the old generation — so the
 *   runtime's commit or transaction for them succeeds and the next owner starts exactly where
 *   this one stopped (the eager protocol of Kafka's own clients). Other batches arriving in the
 *   meantime are left unprocessed for the next owner.
 * - kafkajs' GROUP_JOIN event (emitted after every join+sync, before fetching resumes) carries
 *   the new assignment; diffing it with the previous one gives the newly assigned partitions, and
 *   the ones that moved away while the member was idle (revoked after the fact: too late to
 *   commit them, the runtime only drops their state).
 *
 * Every batch waits until the assignment callbacks of the latest join have finished
 * (heartbeating meanwhile), so state is restored before a newly assigned partition's first record
 * is processed. On `disconnect()`, `onRevoked` runs while the member is still in the group, so a
 * final commit there succeeds.
 */
import type { EachBatchPayload, Kafka, Batch as KafkaJsBatch, Consumer as KafkaJsConsumer } from 'kafkajs';
import { createLogger } from '../../common/logger.ts';
import type { Headers } from '../record.ts';
import { isKafkaErrorType, toLogFlowError } from './kafka-errors.ts';
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

/** Heartbeat answers meaning the group is re-forming (or has dropped this member). */
const HEARTBEAT_REBALANCE_TYPES = ['REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION', 'UNKNOWN_MEMBER_ID'];

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
  /** Batches inside the runtime's eachBatch right now. */
  private processing = 0;
  private idle: (() => void) | undefined;
  private revoking: Promise<void> | undefined;
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
      maxBytesPerPartition: tuning.maxBytesPerPartition ?? 1024 * 1024,
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
      // Partitions are being handed back before a rejoin: leave the batch to the next owner.
      if (this.revoking) return;
      if (this.closing || !isRunning() || isStale()) return;
      if (!this.assignment.has(tpKey(batch.topic, batch.partition))) return;
      const messages = toIncoming(batch);
      if (messages.length > 0) await this.deliver(batch, messages, max, isStale);
      try {
        // kafkajs only heartbeats once the batch has returned; asking here lets a starting
        // rebalance be seen while this member still belongs to the current generation.
        await heartbeat();
      } catch (err) {
        if (HEARTBEAT_REBALANCE_TYPES.some((t) => isKafkaErrorType(err, t))) await this.revokeBeforeRejoin();
        throw err;
      }
    } finally {
      this.inFlight--;
      if (this.inFlight === 0 && this.drained) this.drained();
    }
  }

  private async deliver(
    batch: KafkaJsBatch,
    messages: IncomingMessage[],
    max: number,
    isStale: () => boolean,
  ): Promise<void> {
    const highWatermark = Number(batch.highWatermark);
    const eachBatch = this.run_!.eachBatch;
    this.processing++;
    try {
      if (messages.length <= max) {
        await eachBatch({ topic: batch.topic, partition: batch.partition, messages, highWatermark });
        return;
      }
      for (let i = 0; i < messages.length && !this.closing && !this.revoking && !isStale(); i += max) {
        await eachBatch({
          topic: batch.topic,
          partition: batch.partition,
          messages: messages.slice(i, i + max),
          highWatermark,
        });
      }
    } finally {
      this.processing--;
      if (this.processing === 0 && this.idle) this.idle();
    }
  }

  /**
   * The eager-rebalance contract of Kafka's own clients: before rejoining, every partition is
   * revoked while the member still belongs to the old generation, so the runtime's commit (or
   * transaction) for them succeeds and the next owner starts exactly where this one stopped.
   * The next GROUP_JOIN then reports the new assignment as newly assigned.
   */
  private revokeBeforeRejoin(): Promise<void> {
    this.revoking ??= (async () => {
      if (this.processing > 0) await new Promise<void>((r) => (this.idle = r));
      this.idle = undefined;
      await this.rebalancing?.catch(() => {});
      const owned = [...this.assignment.values()];
      this.assignment.clear();
      if (owned.length === 0 || !this.run_?.onRevoked) return;
      log.debug({ groupId: this.options.groupId, owned }, 'revoking before rejoin');
      await this.run_.onRevoked(owned).catch((err) => log.error({ err }, 'onRevoked failed before rejoin'));
    })();
    return this.revoking;
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
    this.revoking = undefined;
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
      if (revoked.length && run?.onRevoked) {
        // Lost: too late to commit these (the group has re-formed); the runtime only drops their state.
        await run
          .onRevoked(revoked, { lost: true })
          .catch((err) => log.warn({ err }, 'onRevoked failed after rejoin'));
      }
      try {
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
