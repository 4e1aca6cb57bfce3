/**
 * The phases of the topology benchmark. Each consumes the whole input topic with a fresh consumer
 * group and is done when that group's committed offsets reach the input's end offsets (for every
 * phase a commit happens only after the outputs derived from the records are acknowledged, so this
 * is "all output durably written"). Time runs from the first record handed to processing to that
 * point, so group-join time is not counted in any phase.
 */
import type { Kafka } from 'kafkajs';
import { randomName } from '../test/helpers/names.ts';
import type { SchemaRegistryClient } from '../topology/serdes/schema-registry.ts';
import type { KafkaTransport } from '../topology/transport/kafka-transport.ts';
import type { Workload } from './topology-workload.ts';

export interface PhaseResult {
  phase: string;
  records: number;
  seconds: number;
  recordsPerSecond: number;
  outputRecords?: number;
  note?: string;
  /** records/s of every round (the result itself is the median round). */
  rounds?: number[];
  /** Median over rounds of records/s ÷ the same round's raw passthrough. */
  ratioToCeiling?: number;
}

export interface PhaseContext {
  kafka: Kafka;
  transport: KafkaTransport;
  input: string;
  partitions: number;
  records: number;
  /** Most records per runtime batch (LogFlowStreams maxBatchSize); undefined = the runtime's default. */
  maxBatchSize?: number;
  /** Concurrency of partition processing used by every phase. */
  concurrency: number;
  registry: SchemaRegistryClient;
  workload: Workload;
  /** Makes an output topic (deleted at the end of the run). */
  outputTopic(): Promise<string>;
  /** Deletes this topic at the end of the run too (internal topics of a topology). */
  trackTopic(name: string): void;
}

/** Polls until `groupId` has committed the input's end offsets; returns the time it happened. */
export async function waitCommitted(
  ctx: PhaseContext,
  groupId: string,
  timeoutMs = 180_000,
): Promise<number> {
  const ends = await ctx.transport.endOffsets(ctx.input);
  const target = ends.reduce((s, e) => s + e.offset, 0);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const committed = await ctx.transport.committedOffsets(groupId, ctx.input);
    if (committed.reduce((s, c) => s + c.offset, 0) >= target) return performance.now();
    if (Date.now() > deadline) throw new Error(`phase did not finish within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function result(
  phase: string,
  records: number,
  t0: number,
  t1: number,
  extra: Partial<PhaseResult> = {},
): PhaseResult {
  const seconds = (t1 - t0) / 1000;
  return { phase, records, seconds, recordsPerSecond: records / seconds, ...extra };
}

/** Records per produce request of the raw passthrough: ~4,000 × ~200 bytes stays under 1 MiB. */
const RAW_CHUNK = 4_000;

/** The client's ceiling: raw kafkajs eachBatch → sendBatch of the same bytes → commit, acks=all. */
export async function rawPassthrough(ctx: PhaseContext): Promise<PhaseResult> {
  const output = await ctx.outputTopic();
  const groupId = randomName('bench-raw');
  const consumer = ctx.kafka.consumer({
    groupId,
    maxWaitTimeInMs: 100,
    maxBytesPerPartition: 2 * 1024 * 1024,
  });
  const producer = ctx.kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
  });
  await Promise.all([consumer.connect(), producer.connect()]);
  await consumer.subscribe({ topics: [ctx.input], fromBeginning: true });
  let t0 = 0;
  await consumer.run({
    autoCommit: false,
    partitionsConsumedConcurrently: ctx.concurrency,
    eachBatch: async ({ batch }) => {
      if (t0 === 0) t0 = performance.now();
      // The broker refuses record batches over 1 MiB and kafkajs does not split them.
      for (let i = 0; i < batch.messages.length; i += RAW_CHUNK) {
        await producer.sendBatch({
          acks: -1,
          topicMessages: [
            {
              topic: output,
              messages: batch.messages
                .slice(i, i + RAW_CHUNK)
                .map((m) => ({ key: m.key, value: m.value, timestamp: m.timestamp })),
            },
          ],
        });
      }
      await consumer.commitOffsets([
        { topic: batch.topic, partition: batch.partition, offset: String(Number(batch.lastOffset()) + 1) },
      ]);
    },
  });
  const t1 = await waitCommitted(ctx, groupId);
  await consumer.disconnect();
  await producer.disconnect();
  return result('raw kafkajs passthrough (ceiling)', ctx.records, t0, t1);
}

/** The same passthrough through LogFlow's KafkaTransport (its consumer, producer and acks), no topology. */
export async function transportPassthrough(ctx: PhaseContext): Promise<PhaseResult> {
  const output = await ctx.outputTopic();
  const groupId = randomName('bench-transport');
  const consumer = ctx.transport.consumer({ groupId });
  const producer = ctx.transport.producer();
  await Promise.all([consumer.connect(), producer.connect()]);
  await consumer.subscribe([ctx.input]);
  let t0 = 0;
  await consumer.run({
    eachBatch: async (batch) => {
      if (t0 === 0) t0 = performance.now();
      await producer.send(
        batch.messages.map((m) => ({ topic: output, key: m.key, value: m.value, timestamp: m.timestamp })),
      );
      const last = batch.messages[batch.messages.length - 1];
      await consumer.commit([{ topic: batch.topic, partition: batch.partition, offset: last.offset + 1 }]);
    },
  });
  const t1 = await waitCommitted(ctx, groupId);
  await consumer.disconnect();
  await producer.disconnect();
  return result('KafkaTransport passthrough (bytes)', ctx.records, t0, t1);
}

/** Reference: raw kafkajs consume + commit with no produce (how fast the client alone reads). */
export async function rawConsumeOnly(ctx: PhaseContext): Promise<PhaseResult> {
  const groupId = randomName('bench-consume');
  const consumer = ctx.kafka.consumer({ groupId, maxWaitTimeInMs: 100, maxBytesPerPartition: 1024 * 1024 });
  await consumer.connect();
  await consumer.subscribe({ topics: [ctx.input], fromBeginning: true });
  let t0 = 0;
  await consumer.run({
    autoCommit: false,
    partitionsConsumedConcurrently: ctx.concurrency,
    eachBatch: async ({ batch }) => {
      if (t0 === 0) t0 = performance.now();
      await consumer.commitOffsets([
        { topic: batch.topic, partition: batch.partition, offset: String(Number(batch.lastOffset()) + 1) },
      ]);
    },
  });
  const t1 = await waitCommitted(ctx, groupId);
  await consumer.disconnect();
  return result('raw kafkajs consume only (reference)', ctx.records, t0, t1, { note: 'no produce' });
}
