import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Registry } from 'prom-client';
import { describeError, LogFlowError } from '../../common/errors.ts';
import { createLogger, type Logger } from '../../common/logger.ts';
import { Topology } from '../topology.ts';
import {
  type Batch,
  type Consumer,
  isRebalanceError,
  type OutgoingMessage,
  type Producer,
  type RevokeInfo,
  type TopicPartition,
  type TopicPartitionOffset,
  type Transaction,
  type Transport,
} from '../transport/transport.ts';
import type { DeserializationErrorHandler, ProcessingErrorHandler } from './error-handlers.ts';
import { TopologyMetrics } from './metrics.ts';
import { Mutex } from './mutex.ts';
import { withRetry } from './retry.ts';
import { Task, type TaskEnvironment } from './task.ts';

/**
 * How long a revoked task's state may be reused. Compaction eventually removes tombstones (after
 * the topic's delete.retention.ms, 24 h by default): a task kept that long could keep a key whose
 * deletion it never saw, so long absences restore from scratch.
 */
const KEEP_REVOKED_MS = 10 * 60_000;

export type ProcessingGuarantee = 'at_least_once' | 'exactly_once';

export interface StreamsConfig {
  /** Consumer group id, prefix of internal topics (`<id>-<name>-repartition`, `<id>-<store>-changelog`). */
  applicationId: string;
  transport: Transport;
  /** Default `at_least_once`. */
  processingGuarantee?: ProcessingGuarantee;
  /** How often offsets (or the transaction) are committed. Default 1000 ms (at-least-once), 100 ms (exactly-once). */
  commitIntervalMs?: number;
  /** Default `continue` (log, count and skip). */
  deserializationErrorHandler?: DeserializationErrorHandler;
  /** Default `continue` (log, count and skip). */
  processingErrorHandler?: ProcessingErrorHandler;
  /** Late records go here (with error headers) instead of only being dropped and counted. */
  lateRecordsTopic?: string;
  /** Partitions for topics the runtime creates when missing (sources, sinks). Default 1. */
  defaultPartitions?: number;
  /** Most messages per fetched batch. Default 1000. */
  maxBatchSize?: number;
  /** Backpressure: a task's partitions are paused while more batches than this await acks. Default 16. */
  maxInFlightBatches?: number;
  /** Where metrics are registered (expose it with `registry.metrics()`). Default a new Registry. */
  metricsRegistry?: Registry;
  /** Distinguishes instances (logs, transactional id). Default random. */
  instanceId?: string;
  /** Granularity of wall-clock punctuation. Default 100 ms. */
  wallClockTickMs?: number;
  /** Called once when the application fails (a `fail` decision, a send or commit error). */
  onError?: (error: LogFlowError) => void;
  logger?: Logger;
}

export type StreamsState = 'CREATED' | 'STARTING' | 'RUNNING' | 'PENDING_SHUTDOWN' | 'NOT_RUNNING' | 'ERROR';

interface TaskState {
  task: Task;
  partitions: TopicPartition[];
  /** Next offsets whose outputs are acknowledged (or inside the open transaction). */
  committable: Map<string, number>;
  committed: Map<string, number>;
  acked: Promise<void>;
  inFlight: number;
  paused: boolean;
}

/**
 * Runs a Topology on a transport: one consumer group (= applicationId), one task per
 * sub-topology and input partition, state restored from changelogs when partitions are assigned.
 *
 * at_least_once: outputs and changelog writes of a batch are sent, and its offsets become
 * committable only once every one of those sends is acknowledged; offsets are committed every
 * `commitIntervalMs`, on revocation and on close. A crash can replay (never lose) records.
 *
 * exactly_once: one transactional producer per instance; outputs, changelog writes and the
 * consumed offsets of every task go into one transaction committed every `commitIntervalMs`, so
 * after a crash the outputs and the state agree with the committed offsets exactly.
 *
 * Lifecycle: `start()` once; `close()` stops fetching, lets the in-flight batch finish, commits
 * and leaves the group — idempotent, safe to call concurrently, also after a failure.
 */
export class LogFlowStreams {
  readonly metrics: TopologyMetrics;
  readonly registry: Registry;
  readonly instanceId: string;
  private readonly log: Logger;
  private readonly guarantee: ProcessingGuarantee;
  private readonly commitIntervalMs: number;
  private readonly maxInFlight: number;
  private readonly tasks = new Map<string, TaskState>();
  /**
   * Tasks revoked cleanly (flushed, committed) whose stores are all changelogged, kept with the
   * changelog end offsets seen right after: if the same partition comes back (kafkajs rebalances
   * eagerly, revoking everything every time), the task is reused and only changelog records
   * written since (by another owner) are applied, instead of restoring every store from scratch.
   */
  private readonly kept = new Map<string, { task: Task; changelogEnds: Map<string, number>; at: number }>();
  private readonly subtopologyOfTopic = new Map<string, number>();
  private readonly partitionCounts = new Map<string, number>();
  private readonly mutex = new Mutex();
  private stateValue: StreamsState = 'CREATED';
  private consumer: Consumer | undefined;
  private producer: Producer | undefined;
  private transaction: Transaction | null = null;
  private transactionStarted = 0;
  private timers: NodeJS.Timeout[] = [];
  private closing: Promise<void> | undefined;
  private failure: LogFlowError | undefined;
  private readonly env: TaskEnvironment;

  constructor(
    readonly topology: Topology,
    private readonly config: StreamsConfig,
  ) {
    if (!config.applicationId) throw new LogFlowError('LF_ERR_CONFIG_INVALID', 'applicationId is required');
    this.guarantee = config.processingGuarantee ?? 'at_least_once';
    this.commitIntervalMs = config.commitIntervalMs ?? (this.guarantee === 'exactly_once' ? 100 : 1000);
    this.maxInFlight = config.maxInFlightBatches ?? 16;
    this.instanceId = config.instanceId ?? randomBytes(4).toString('hex');
    this.registry = config.metricsRegistry ?? new Registry();
    this.metrics = new TopologyMetrics(this.registry);
    this.log =
      config.logger ??
      createLogger('streams', { applicationId: config.applicationId, instance: this.instanceId });
    this.env = {
      applicationId: config.applicationId,
      topology,
      wallClock: () => Date.now(),
      deserializationErrorHandler: config.deserializationErrorHandler ?? 'continue',
      processingErrorHandler: config.processingErrorHandler ?? 'continue',
      lateRecordsTopic: config.lateRecordsTopic,
      metrics: this.metrics,
      partitionCount: (topic) => this.partitionCounts.get(topic),
      logger: this.log,
    };
  }

  get state(): StreamsState {
    return this.stateValue;
  }

  /** Task ids (`<subtopology>_<partition>`) this instance runs now. */
  get assignedTasks(): string[] {
    return [...this.tasks.keys()].sort();
  }

  /** A store of a running task (for inspection and interactive queries on this instance). */
  store<S>(name: string, partition: number): S | undefined {
    for (const { task } of this.tasks.values()) {
      if (task.partition === partition && task.stores.has(name)) return task.stores.get(name) as S;
    }
    return undefined;
  }

  async start(): Promise<void> {
    if (this.stateValue !== 'CREATED')
      throw new LogFlowError('LF_ERR_CONFIG_INVALID', `cannot start in state ${this.stateValue}`);
    this.stateValue = 'STARTING';
    const { transport, applicationId } = this.config;
    await this.prepareTopics();
    this.producer =
      this.guarantee === 'exactly_once'
        ? transport.producer({ transactionalId: `${applicationId}-${this.instanceId}` })
        : transport.producer();
    await this.producer.connect();
    this.consumer = transport.consumer({
      groupId: applicationId,
      readCommitted: true,
      maxBatchSize: this.config.maxBatchSize,
    });
    await this.consumer.connect();
    await this.consumer.subscribe([...this.subtopologyOfTopic.keys()]);
    this.stateValue = 'RUNNING';
    await this.consumer.run({
      eachBatch: (batch) => this.onBatch(batch),
      onAssigned: (tps) => this.onAssigned(tps),
      onRevoked: (tps) => this.onRevoked(tps),
    });
    this.timers.push(
      setInterval(
        () => void this.commitAll().catch((err) => this.onPeriodicCommitError(err)),
        this.commitIntervalMs,
      ),
    );
    const tick = this.config.wallClockTickMs ?? 100;
    this.timers.push(setInterval(() => void this.punctuateWallClock().catch((err) => this.fail(err)), tick));
    for (const t of this.timers) t.unref();
    this.log.info({ guarantee: this.guarantee, topics: [...this.subtopologyOfTopic.keys()] }, 'started');
  }

  /** Stops fetching, drains in-flight batches, commits, leaves the group. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  // ---------------------------------------------------------------------------------------------

  private async prepareTopics(): Promise<void> {
    const { transport, applicationId } = this.config;
    const topology = this.topology;
    const defaultPartitions = this.config.defaultPartitions ?? 1;
    const external = new Set<string>();
    const sinks = new Set<string>();
    for (const sub of topology.subtopologies) {
      for (const t of sub.sourceTopics) if (!topology.internalTopics.has(t)) external.add(t);
      for (const t of sub.sinkTopics) if (!topology.internalTopics.has(t)) sinks.add(t);
    }
    await transport.ensureTopics(
      [...external, ...sinks].map((name) => ({ name, partitions: defaultPartitions })),
    );
    for (const t of [...external, ...sinks]) this.partitionCounts.set(t, await transport.partitionCount(t));
    // Sub-topology partition counts: from external sources, then through repartition topics
    // (which get the partition count of the sub-topology writing them).
    const subPartitions = new Map<number, number>();
    for (let pass = 0; pass <= topology.subtopologies.length; pass++) {
      for (const sub of topology.subtopologies) {
        const counts = sub.sourceTopics.map((t) =>
          topology.internalTopics.has(t)
            ? this.partitionCounts.get(topology.topicName(t, applicationId))
            : this.partitionCounts.get(t),
        );
        if (counts.some((c) => c === undefined)) continue;
        const distinct = new Set(counts);
        if (distinct.size > 1) {
          throw new LogFlowError(
            'LF_ERR_TOPOLOGY_INVALID',
            `sub-topology ${sub.id} reads topics that are not co-partitioned: ${sub.sourceTopics.join(', ')} have ${counts.join(', ')} partitions`,
          );
        }
        const n = counts[0]!;
        subPartitions.set(sub.id, n);
        for (const t of sub.sinkTopics) {
          if (!topology.internalTopics.has(t)) continue;
          const real = topology.topicName(t, applicationId);
          const existing = this.partitionCounts.get(real);
          this.partitionCounts.set(real, Math.max(existing ?? 0, n));
        }
      }
    }
    const internal = [...topology.internalTopics].map((t) => topology.topicName(t, applicationId));
    await transport.ensureTopics(
      internal.map((name) => ({ name, partitions: this.partitionCounts.get(name) ?? defaultPartitions })),
    );
    for (const t of internal) this.partitionCounts.set(t, await transport.partitionCount(t));
    const changelogs = [];
    for (const sub of topology.subtopologies) {
      for (const store of sub.stores) {
        if (!topology.stores.get(store)?.logging) continue;
        changelogs.push({
          name: Topology.changelogTopic(applicationId, store),
          partitions: subPartitions.get(sub.id) ?? defaultPartitions,
          compacted: true,
          configs: { 'cleanup.policy': 'compact' },
        });
      }
      for (const t of sub.sourceTopics)
        this.subtopologyOfTopic.set(topology.topicName(t, applicationId), sub.id);
    }
    await transport.ensureTopics(changelogs);
  }

  private taskKey(topic: string, partition: number): string | undefined {
    const sub = this.subtopologyOfTopic.get(topic);
    return sub === undefined ? undefined : `${sub}_${partition}`;
  }

  private async onAssigned(partitions: TopicPartition[]): Promise<void> {
    const created: TaskState[] = [];
    const reused: string[] = [];
    const assignedKeys = new Set<string>();
    const changelogEnd = this.changelogEnds();
    for (const tp of partitions) {
      const key = this.taskKey(tp.topic, tp.partition);
      if (!key) continue;
      assignedKeys.add(key);
      const existing = this.tasks.get(key);
      if (existing) {
        existing.partitions.push(tp);
        continue;
      }
      const sub = this.topology.subtopologies[this.subtopologyOfTopic.get(tp.topic)!];
      let kept = this.kept.get(key);
      this.kept.delete(key);
      if (kept && Date.now() - kept.at > KEEP_REVOKED_MS) {
        kept.task.close();
        kept = undefined;
      }
      const state: TaskState = {
        task: kept ? kept.task : new Task(this.env, sub, tp.partition),
        partitions: [tp],
        committable: new Map(),
        committed: new Map(),
        acked: Promise.resolve(),
        inFlight: 0,
        paused: false,
      };
      this.tasks.set(key, state);
      created.push(state);
      if (kept) {
        if (await this.catchUp(kept.task, kept.changelogEnds, changelogEnd)) {
          reused.push(key);
          continue;
        }
        // The changelog went backwards (recreated?): start over from an empty task.
        kept.task.close();
        state.task = new Task(this.env, sub, tp.partition);
      }
      await this.restore(state.task);
    }
    // Kept tasks whose partitions went elsewhere: their next owner has the state now.
    for (const [key, { task }] of this.kept) {
      if (assignedKeys.has(key)) continue;
      task.close();
      this.kept.delete(key);
    }
    if (created.length > 0) this.log.info({ tasks: created.map((s) => s.task.id), reused }, 'tasks assigned');
  }

  /**
   * Brings a kept task's stores up to date: applies what its changelogs gained since the task was
   * revoked (nothing when the partition came straight back). False when a changelog is now shorter
   * than when the task was revoked: the kept state cannot be trusted then.
   */
  private async catchUp(
    task: Task,
    changelogEnds: Map<string, number>,
    changelogEnd: (topic: string, partition: number) => Promise<number>,
  ): Promise<boolean> {
    const started = performance.now();
    let total = 0;
    for (const store of task.loggedStores) {
      const topic = task.changelogTopic(store);
      const from = changelogEnds.get(store);
      const end = await changelogEnd(topic, task.partition);
      if (from === undefined || end < from) return false;
      if (end === from) continue;
      total += await this.restoreStore(task, store, from);
    }
    if (total > 0) {
      task.restored();
      this.log.info(
        { task: task.id, records: total, ms: Math.round(performance.now() - started) },
        'kept state caught up',
      );
    }
    return true;
  }

  /**
   * A reader of changelog end offsets for one rebalance callback: each topic's ends are asked once,
   * not once per task and store (every task of a store shares its changelog topic).
   */
  private changelogEnds(): (topic: string, partition: number) => Promise<number> {
    const byTopic = new Map<string, Promise<TopicPartitionOffset[]>>();
    return async (topic, partition) => {
      let ends = byTopic.get(topic);
      if (!ends) {
        ends = this.config.transport.endOffsets(topic);
        byTopic.set(topic, ends);
      }
      return (await ends).find((e) => e.partition === partition)?.offset ?? 0;
    };
  }

  private async restore(task: Task): Promise<void> {
    const started = performance.now();
    let total = 0;
    for (const store of task.loggedStores) total += await this.restoreStore(task, store);
    task.restored();
    if (total > 0) {
      this.log.info(
        { task: task.id, records: total, ms: Math.round(performance.now() - started) },
        'state restored',
      );
    }
  }

  /** Applies a store's changelog partition from `fromOffset` to its end; returns the records applied. */
  private async restoreStore(task: Task, store: string, fromOffset?: number): Promise<number> {
    let n = 0;
    for await (const chunk of this.config.transport.readPartition(
      task.changelogTopic(store),
      task.partition,
      fromOffset,
    )) {
      for (const message of chunk) {
        const r = task.restore(store, message);
        if (r) await r;
      }
      n += chunk.length;
      this.metrics.restoreRecords.inc({ application: this.config.applicationId, store }, chunk.length);
    }
    return n;
  }

  private async onRevoked(partitions: TopicPartition[], info?: RevokeInfo): Promise<void> {
    const keys = new Set<string>();
    for (const tp of partitions) {
      const key = this.taskKey(tp.topic, tp.partition);
      if (key && this.tasks.has(key)) keys.add(key);
    }
    if (keys.size === 0) return;
    const lost = info?.lost === true;
    let committed = false;
    try {
      if (this.guarantee === 'exactly_once') {
        await this.mutex.run(async () => {
          if (!this.failure) {
            for (const key of keys) await this.flushTask(this.tasks.get(key)!);
            await this.commitTransaction();
            committed = true;
          } else {
            await this.abortTransaction();
          }
        });
      } else {
        for (const key of keys) {
          const state = this.tasks.get(key)!;
          // A failed task's drain holds only the records before the failure: safe to flush.
          await this.flushTask(state);
          await state.acked;
        }
        // Lost partitions: this member left that generation, so a commit would only be refused;
        // their next owner replays from the last commit, as at-least-once allows.
        if (!lost) {
          await this.commitOffsets([...keys]);
          committed = true;
        }
      }
    } catch (err) {
      // At-least-once: the group re-formed under us; the next owner replays what was not committed.
      // (Exactly-once errors here come from the transaction and are not the group's to excuse.)
      if (this.guarantee !== 'at_least_once' || !isRebalanceError(err)) throw err;
      this.log.info(
        { tasks: [...keys], err: describeError(err) },
        'commit at revocation refused by the group',
      );
    } finally {
      await this.keepOrClose(keys, committed && !lost);
    }
    this.log.info({ tasks: [...keys], lost }, 'tasks revoked');
  }

  /** Drops revoked tasks, keeping those whose state is known to match their changelogs. */
  private async keepOrClose(keys: Set<string>, committed: boolean): Promise<void> {
    const changelogEnd = this.changelogEnds();
    for (const key of keys) {
      const { task } = this.tasks.get(key)!;
      this.tasks.delete(key);
      const keepable =
        committed &&
        !this.failure &&
        !task.failed &&
        this.stateValue === 'RUNNING' &&
        task.stores.size > 0 &&
        task.loggedStores.length === task.stores.size;
      if (!keepable) {
        task.close();
        continue;
      }
      try {
        const changelogEnds = new Map<string, number>();
        for (const store of task.loggedStores)
          changelogEnds.set(store, await changelogEnd(task.changelogTopic(store), task.partition));
        this.kept.set(key, { task, changelogEnds, at: Date.now() });
      } catch (err) {
        this.log.warn({ task: task.id, err: describeError(err) }, 'could not keep a revoked task');
        task.close();
      }
    }
  }

  private async onBatch(batch: Batch): Promise<void> {
    if (this.stateValue !== 'RUNNING' || batch.messages.length === 0) return;
    const key = this.taskKey(batch.topic, batch.partition);
    const state = key ? this.tasks.get(key) : undefined;
    if (!state) return;
    // A send or commit failure fails the application rather than the batch: the consumer would
    // re-deliver the batch to a task whose state already includes it.
    try {
      if (this.guarantee === 'exactly_once') {
        await this.mutex.run(async () => {
          if (this.stateValue !== 'RUNNING') return;
          await this.processBatch(state, batch);
          if (performance.now() - this.transactionStarted >= this.commitIntervalMs)
            await this.commitTransaction();
        });
      } else {
        await this.processBatch(state, batch);
      }
    } catch (err) {
      this.fail(err);
    }
  }

  private async processBatch(state: TaskState, batch: Batch): Promise<void> {
    const task = state.task;
    const started = performance.now();
    try {
      for (const message of batch.messages) {
        const r = task.process(message);
        if (r) await r;
      }
    } catch (err) {
      // At-least-once: the records before the failing one are done; send their outputs so their
      // offsets can be committed (the failing record's offset is not). Exactly-once aborts instead.
      if (this.guarantee === 'at_least_once') await this.flushTask(state);
      this.fail(err);
      return;
    }
    const n = batch.messages.length;
    this.metrics.latency.observe(
      {
        application: this.config.applicationId,
        stage: `${this.config.applicationId}/${task.subtopology.id}`,
      },
      (performance.now() - started) / 1000 / n,
    );
    const last = batch.messages[n - 1].offset;
    this.metrics.lag.set(
      { group: this.config.applicationId, topic: batch.topic, partition: String(batch.partition) },
      Math.max(0, batch.highWatermark - last - 1),
    );
    await this.flushTask(state);
  }

  /** Sends what a task produced; its offsets become committable once acknowledged (or in the transaction). */
  private async flushTask(state: TaskState): Promise<void> {
    const { messages, offsets } = state.task.drain();
    const list: OutgoingMessage[] = Array.isArray(messages) ? messages : await messages;
    if (this.guarantee === 'exactly_once') {
      if (list.length > 0) {
        const tx = await this.openTransaction();
        await withRetry(() => tx.send(list));
      }
      for (const o of offsets) state.committable.set(o.topic, o.offset);
      return;
    }
    if (list.length === 0 && offsets.length === 0) return;
    const send = list.length > 0 ? this.producer!.send(list) : Promise.resolve([]);
    state.inFlight++;
    state.acked = Promise.all([state.acked, send]).then(
      () => {
        for (const o of offsets) state.committable.set(o.topic, o.offset);
      },
      (err) => this.fail(err),
    );
    void state.acked.finally(() => {
      state.inFlight--;
      if (state.paused && state.inFlight <= this.maxInFlight / 2) {
        state.paused = false;
        this.consumer?.resume(state.partitions);
      }
    });
    if (state.inFlight > this.maxInFlight && !state.paused) {
      state.paused = true;
      this.consumer?.pause(state.partitions);
    }
  }

  private async openTransaction(): Promise<Transaction> {
    if (!this.transaction) {
      this.transaction = await withRetry(() => this.producer!.transaction());
      this.transactionStarted = performance.now();
    }
    return this.transaction;
  }

  /** Sends the consumed offsets into the open transaction and commits it. Caller holds the mutex. */
  private async commitTransaction(): Promise<void> {
    const offsets: TopicPartitionOffset[] = [];
    const changed: Array<[TaskState, string, number]> = [];
    for (const state of this.tasks.values()) {
      for (const [topic, offset] of state.committable) {
        if (state.committed.get(topic) === offset) continue;
        offsets.push({ topic, partition: state.task.partition, offset });
        changed.push([state, topic, offset]);
      }
    }
    if (!this.transaction && offsets.length === 0) return;
    const started = performance.now();
    const tx = await this.openTransaction();
    if (offsets.length > 0) await withRetry(() => tx.sendOffsets(this.config.applicationId, offsets));
    await withRetry(() => tx.commit());
    this.transaction = null;
    for (const [state, topic, offset] of changed) state.committed.set(topic, offset);
    this.metrics.commitLatency.observe(
      { group: this.config.applicationId },
      (performance.now() - started) / 1000,
    );
  }

  private async abortTransaction(): Promise<void> {
    const tx = this.transaction;
    this.transaction = null;
    if (tx) await tx.abort().catch((err) => this.log.warn({ err: describeError(err) }, 'abort failed'));
  }

  private async commitOffsets(keys?: string[]): Promise<void> {
    const offsets: TopicPartitionOffset[] = [];
    const changed: Array<[TaskState, string, number]> = [];
    for (const key of keys ?? this.tasks.keys()) {
      const state = this.tasks.get(key);
      if (!state) continue;
      for (const [topic, offset] of state.committable) {
        if (state.committed.get(topic) === offset) continue;
        offsets.push({ topic, partition: state.task.partition, offset });
        changed.push([state, topic, offset]);
      }
    }
    if (offsets.length === 0) return;
    const started = performance.now();
    await this.consumer!.commit(offsets);
    this.commitFailures = 0;
    for (const [state, topic, offset] of changed) state.committed.set(topic, offset);
    this.metrics.commitLatency.observe(
      { group: this.config.applicationId },
      (performance.now() - started) / 1000,
    );
  }

  private async commitAll(): Promise<void> {
    if (this.stateValue !== 'RUNNING') return;
    if (this.guarantee === 'exactly_once') {
      await this.mutex.run(async () => {
        if (this.stateValue === 'RUNNING') await this.commitTransaction();
      });
    } else {
      await this.commitOffsets();
    }
  }

  private async punctuateWallClock(): Promise<void> {
    if (this.stateValue !== 'RUNNING') return;
    const states = [...this.tasks.values()].filter((s) => s.task.hasWallClockPunctuators);
    if (states.length === 0) return;
    const run = async () => {
      for (const state of states) {
        try {
          state.task.punctuateWallClock(Date.now());
        } catch (err) {
          this.fail(err);
          return;
        }
        await this.flushTask(state);
      }
    };
    if (this.guarantee === 'exactly_once') await this.mutex.run(run);
    else await run();
  }

  /**
   * A periodic at-least-once commit can fail while the group rebalances (UNKNOWN_MEMBER_ID,
   * REBALANCE_IN_PROGRESS, coordinator moves). The offsets stay committable and the next interval
   * (or the revocation) commits them; at worst a new owner replays them, which at-least-once
   * allows. Only a commit that keeps failing for a minute fails the application.
   */
  private commitFailures = 0;

  private onPeriodicCommitError(err: unknown): void {
    const rebalancing = isRebalanceError(err);
    this.commitFailures++;
    if (
      this.guarantee === 'exactly_once' ||
      !rebalancing ||
      this.commitFailures * this.commitIntervalMs > 60_000
    ) {
      this.fail(err);
      return;
    }
    this.log.warn(
      { err: describeError(err), attempt: this.commitFailures },
      'offset commit failed; retrying at the next interval',
    );
  }

  private fail(err: unknown): void {
    if (this.failure) return;
    this.failure =
      err instanceof LogFlowError
        ? err
        : new LogFlowError('LF_ERR_PROCESSING', describeError(err), { cause: err });
    this.stateValue = 'ERROR';
    this.log.error(
      { err: describeError(err), code: this.failure.code },
      'streams application failed; closing',
    );
    try {
      this.config.onError?.(this.failure);
    } catch {
      // The callback's own failure must not hide the original one.
    }
    // Never close from inside a batch: the consumer waits for the running batch to finish.
    setImmediate(() => void this.close());
  }

  private async doClose(): Promise<void> {
    const failed = this.stateValue === 'ERROR';
    if (!failed) this.stateValue = 'PENDING_SHUTDOWN';
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    try {
      // Leaving the group revokes every partition: onRevoked flushes and commits each task.
      await this.consumer?.disconnect();
      const rest = [...this.tasks.keys()];
      if (rest.length > 0) {
        if (this.guarantee === 'exactly_once') {
          await this.mutex.run(() => (this.failure ? this.abortTransaction() : this.commitTransaction()));
        } else {
          for (const key of rest) await this.tasks.get(key)!.acked;
          await this.commitOffsets(rest);
        }
        for (const key of rest) this.tasks.get(key)!.task.close();
        this.tasks.clear();
      }
      for (const { task } of this.kept.values()) task.close();
      this.kept.clear();
      if (this.guarantee === 'exactly_once') await this.mutex.run(() => this.abortTransaction());
      await this.producer?.disconnect();
    } catch (err) {
      this.log.error({ err: describeError(err) }, 'error while closing');
    }
    if (!failed && this.stateValue !== 'ERROR') this.stateValue = 'NOT_RUNNING';
    this.log.info({ state: this.stateValue }, 'closed');
  }
}
