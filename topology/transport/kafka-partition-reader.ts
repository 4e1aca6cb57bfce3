/**
 * Reads one partition from an offset up to its end offset, outside any real consumer group — what
 * a state store needs to restore itself from its changelog.
 *
 * kafkajs has no manual partition assignment, so this joins a throwaway consumer group of one
 * member whose own partition assigner hands that member exactly the requested partition (no
 * pausing of partitions it should not read, no second member can ever join). The start position is
 * set with `seek` from the GROUP_JOIN event, which kafkajs emits before its first fetch. The end is
 * the partition's last stable offset when reading starts (read_committed, so aborted changelog
 * writes of an exactly-once topology are never restored); progress is tracked from kafkajs'
 * END_BATCH_PROCESS events, which also cover batches holding only transaction markers (kafkajs
 * never hands those to eachBatch). The group is left and deleted afterwards.
 *
 * An empty range (the usual case on a fresh start) returns without joining anything.
 */
// First: kafkajs must bind the linear per-partition grouping (see the module).
import './kafkajs-linear-grouping.ts';
import { randomBytes } from 'node:crypto';
import { type Admin, AssignerProtocol, type Kafka, type PartitionAssigner } from 'kafkajs';
import { createLogger } from '../../common/logger.ts';
import { toIncoming } from './kafka-consumer.ts';
import { toLogFlowError } from './kafka-errors.ts';
import type { IncomingMessage } from './transport.ts';

const log = createLogger('kafka-partition-reader');

function singlePartitionAssigner(topic: string, partition: number): PartitionAssigner {
  return () => ({
    name: 'LogFlowSinglePartition',
    version: 0,
    async assign({ members }) {
      return members.map(({ memberId }, i) => ({
        memberId,
        memberAssignment: AssignerProtocol.MemberAssignment.encode({
          version: 0,
          assignment: i === 0 ? { [topic]: [partition] } : {},
          userData: Buffer.alloc(0),
        }),
      }));
    },
    protocol({ topics }) {
      return {
        name: 'LogFlowSinglePartition',
        metadata: AssignerProtocol.MemberMetadata.encode({ version: 0, topics, userData: Buffer.alloc(0) }),
      };
    },
  });
}

/** A small single-producer/single-consumer queue bridging kafkajs callbacks to an async iterator. */
class BatchQueue {
  private items: IncomingMessage[][] = [];
  private waiting: (() => void) | undefined;
  private space: (() => void) | undefined;
  done = false;
  error: unknown;

  async push(batch: IncomingMessage[]): Promise<void> {
    this.items.push(batch);
    this.wake();
    // Backpressure: kafkajs waits while the reader has not taken what it has.
    while (this.items.length > 4 && !this.done) await new Promise<void>((r) => (this.space = r));
  }

  finish(error?: unknown): void {
    this.done = true;
    this.error ??= error;
    this.wake();
    this.space?.();
  }

  private wake(): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.();
  }

  async next(): Promise<IncomingMessage[] | undefined> {
    for (;;) {
      const item = this.items.shift();
      if (item) {
        const s = this.space;
        this.space = undefined;
        s?.();
        return item;
      }
      if (this.error) throw this.error;
      if (this.done) return undefined;
      await new Promise<void>((r) => (this.waiting = r));
    }
  }
}

export async function* readPartition(
  kafka: Kafka,
  admin: Admin,
  topic: string,
  partition: number,
  fromOffset: number,
): AsyncGenerator<IncomingMessage[]> {
  let end = 0;
  let low = 0;
  // A changelog created a moment ago may not have a leader yet (NOT_LEADER_FOR_PARTITION), and
  // kafkajs' fetchTopicOffsets throws a TypeError ("low.pop(...) is undefined") when concurrent
  // calls on one admin race on its metadata: both are transient, so retry with backoff instead of
  // failing the assignment.
  for (let attempt = 0; ; attempt++) {
    try {
      const offsets = await admin.fetchTopicOffsets(topic);
      const p = offsets.find((o) => o.partition === partition);
      if (!p) throw new Error(`topic ${topic} has no partition ${partition}`);
      end = Number(p.offset);
      low = Number(p.low);
      break;
    } catch (err) {
      // kafkajs wraps the TypeError as non-retriable, so every error gets the bounded retries.
      if (attempt >= 20) throw toLogFlowError(err, `read ${topic}[${partition}]`);
      await new Promise((r) => setTimeout(r, Math.min(2_000, 50 * 2 ** attempt)));
    }
  }
  const start = Math.max(fromOffset, low);
  if (start >= end) return;

  const groupId = `logflow-restore-${randomBytes(6).toString('hex')}`;
  const consumer = kafka.consumer({
    groupId,
    partitionAssigners: [singlePartitionAssigner(topic, partition)],
    readUncommitted: false,
    maxWaitTimeInMs: 50,
    maxBytesPerPartition: 4 * 1024 * 1024,
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
    allowAutoTopicCreation: false,
    retry: { retries: 5 },
  });
  const queue = new BatchQueue();
  let position = start;
  const advance = (next: number) => {
    if (next > position) position = next;
    if (position >= end) queue.finish();
  };
  consumer.on(consumer.events.GROUP_JOIN, () => {
    if (start > low) consumer.seek({ topic, partition, offset: String(start) });
  });
  consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
    if (payload.topic === topic && payload.partition === partition) advance(Number(payload.lastOffset) + 1);
  });
  consumer.on(consumer.events.CRASH, ({ payload }) =>
    queue.finish(toLogFlowError(payload.error, `read ${topic}`)),
  );

  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch, isStale }) => {
        if (isStale() || queue.done) return;
        const messages = toIncoming(batch).filter((m) => m.offset >= start && m.offset < end);
        if (messages.length) await queue.push(messages);
        advance(Number(batch.lastOffset()) + 1);
      },
    });
    for (;;) {
      const batch = await queue.next();
      if (!batch) break;
      yield batch;
    }
  } finally {
    queue.finish();
    await consumer.disconnect().catch(() => {});
    admin
      .deleteGroups([groupId])
      .catch((err) => log.debug({ err, groupId }, 'could not delete restore group'));
  }
}
