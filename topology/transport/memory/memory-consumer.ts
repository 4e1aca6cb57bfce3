import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { createLogger } from '../../../common/logger.ts';
import type {
  Consumer,
  ConsumerOptions,
  ConsumerRunOptions,
  TopicPartition,
  TopicPartitionOffset,
} from '../transport.ts';
import type { GroupMember, MemoryGroup } from './group.ts';
import type { PartitionLog } from './partition-log.ts';

const log = createLogger('memory-consumer');

/** What a consumer needs from the transport that owns it. */
export interface ConsumerHost {
  group(groupId: string): MemoryGroup;
  /** False once the owning connection was killed. */
  alive(): boolean;
  partitionLog(topic: string, partition: number): PartitionLog | undefined;
  subscribe(consumer: MemoryConsumer, topics: string[]): void;
  unsubscribe(consumer: MemoryConsumer): void;
  nextMemberId(groupId: string): string;
}

interface Assigned {
  tp: TopicPartition;
  key: string;
  log: PartitionLog;
  position: number;
}

const tpKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;

/**
 * A member of a memory consumer group. One fetch loop delivers batches partition by partition
 * (round robin, so one busy partition cannot starve the others), never two batches of one
 * partition at once, and yields to the event loop after every round so timers and I/O keep
 * running under full load. When nothing is left to read it sleeps until a producer appends to a
 * subscribed topic.
 *
 * Lifecycle: `subscribe` → `run` (resolves once the member has joined and received its first
 * assignment) → `disconnect` (idempotent; revokes its partitions through `onRevoked` first). Do
 * not await `disconnect` from inside `eachBatch`: it waits for the running batch to finish.
 */
export class MemoryConsumer implements Consumer, GroupMember {
  readonly memberId: string;
  readonly topics = new Set<string>();
  private readonly group: MemoryGroup;
  private readonly maxBatch: number;
  private assigned: Assigned[] = [];
  private readonly paused = new Set<string>();
  private readonly pendingSeeks = new Map<string, number>();
  private runOptions: ConsumerRunOptions | undefined;
  private running = false;
  private loopDone: Promise<void> = Promise.resolve();
  private inBatch: Promise<void> | null = null;
  private wakeUp: (() => void) | null = null;
  private rebalancing: Promise<void> | null = null;
  private joined = false;

  constructor(
    private readonly host: ConsumerHost,
    private readonly options: ConsumerOptions,
  ) {
    this.group = host.group(options.groupId);
    this.memberId = host.nextMemberId(options.groupId);
    this.maxBatch = options.maxBatchSize ?? 1000;
  }

  async connect(): Promise<void> {}

  async subscribe(topics: string[]): Promise<void> {
    for (const t of topics) this.topics.add(t);
    this.host.subscribe(this, topics);
    if (this.joined) await this.group.rebalance();
  }

  async run(options: ConsumerRunOptions): Promise<void> {
    if (this.running) return;
    this.runOptions = options;
    this.running = true;
    this.joined = true;
    await this.group.join(this);
    this.loopDone = this.loop();
  }

  async commit(offsets: TopicPartitionOffset[]): Promise<void> {
    if (!this.host.alive()) return;
    for (const o of offsets) this.group.commit(o.topic, o.partition, o.offset);
  }

  pause(partitions: TopicPartition[]): void {
    for (const tp of partitions) this.paused.add(tpKey(tp.topic, tp.partition));
  }

  resume(partitions: TopicPartition[]): void {
    for (const tp of partitions) this.paused.delete(tpKey(tp.topic, tp.partition));
    this.wake();
  }

  seek(position: TopicPartitionOffset): void {
    const k = tpKey(position.topic, position.partition);
    const entry = this.assigned.find((a) => a.key === k);
    if (entry) entry.position = position.offset;
    else this.pendingSeeks.set(k, position.offset);
    this.wake();
  }

  async disconnect(): Promise<void> {
    if (!this.joined) return;
    this.joined = false;
    this.running = false;
    this.wake();
    await this.loopDone;
    await this.group.leave(this);
    this.host.unsubscribe(this);
  }

  /** The owning process "died": stop at once, leave the group without revoking (no commits). */
  kill(): void {
    if (!this.joined) return;
    this.joined = false;
    this.running = false;
    this.wake();
    void this.group.evict(this);
    this.host.unsubscribe(this);
  }

  /** Called by the transport when a subscribed topic got new messages. */
  wake(): void {
    const w = this.wakeUp;
    if (w) {
      this.wakeUp = null;
      w();
    }
  }

  assignedPartitions(): TopicPartition[] {
    return this.assigned.map((a) => a.tp);
  }

  async revoke(partitions: TopicPartition[]): Promise<void> {
    await this.whileRebalancing(async () => {
      if (this.inBatch) await this.inBatch.catch(() => undefined);
      const gone = new Set(partitions.map((tp) => tpKey(tp.topic, tp.partition)));
      try {
        await this.runOptions?.onRevoked?.(partitions);
      } finally {
        this.assigned = this.assigned.filter((a) => !gone.has(a.key));
      }
    });
  }

  async assign(partitions: TopicPartition[]): Promise<void> {
    await this.whileRebalancing(async () => {
      const added: Assigned[] = [];
      for (const tp of partitions) {
        const partitionLog = this.host.partitionLog(tp.topic, tp.partition);
        if (!partitionLog) continue;
        const k = tpKey(tp.topic, tp.partition);
        const committed = this.group.committedOffset(tp.topic, tp.partition);
        const reset = this.options.fromBeginning === false ? partitionLog.end : partitionLog.start;
        const position = this.pendingSeeks.get(k) ?? committed ?? reset;
        this.pendingSeeks.delete(k);
        added.push({ tp, key: k, log: partitionLog, position });
      }
      // The app restores state before the first batch of a partition is fetched.
      await this.runOptions?.onAssigned?.(added.map((a) => a.tp));
      this.assigned = [...this.assigned, ...added];
    });
  }

  private async whileRebalancing(work: () => Promise<void>): Promise<void> {
    let done!: () => void;
    const previous = this.rebalancing;
    this.rebalancing = new Promise<void>((resolve) => {
      done = resolve;
    });
    try {
      if (previous) await previous;
      await work();
    } finally {
      done();
      this.rebalancing = null;
      this.wake();
    }
  }

  private async loop(): Promise<void> {
    const options = this.runOptions!;
    while (this.running) {
      if (this.rebalancing) {
        await this.rebalancing;
        continue;
      }
      let delivered = 0;
      for (const entry of this.assigned) {
        if (!this.running || this.rebalancing) break;
        if (this.paused.has(entry.key)) continue;
        const partitionLog = entry.log;
        if (entry.position < partitionLog.start) entry.position = partitionLog.start;
        if (entry.position >= partitionLog.end) continue;
        const from = entry.position;
        const messages = partitionLog.read(from, this.maxBatch);
        entry.position = from + messages.length;
        delivered += messages.length;
        this.inBatch = options.eachBatch({
          topic: entry.tp.topic,
          partition: entry.tp.partition,
          messages,
          highWatermark: partitionLog.end,
        });
        try {
          await this.inBatch;
        } catch (err) {
          // As kafkajs does: a failed batch is fetched again, after a pause so a persistent
          // failure does not spin the CPU.
          log.error(
            { err, topic: entry.tp.topic, partition: entry.tp.partition },
            'eachBatch failed; retrying',
          );
          entry.position = from;
          await new Promise((r) => setTimeout(r, 100));
        } finally {
          this.inBatch = null;
        }
      }
      if (!this.running) break;
      if (delivered === 0) {
        if (this.rebalancing) continue;
        await new Promise<void>((resolve) => {
          this.wakeUp = resolve;
        });
      } else {
        await yieldToEventLoop();
      }
    }
  }
}
