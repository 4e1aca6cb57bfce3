import { merge, type Observable, type Subscription } from 'rxjs';
import { describeError, LogFlowError } from '../../common/errors.ts';
import type { Logger } from '../../common/logger.ts';
import type { StreamRecord } from '../record.ts';
import type { Serde } from '../serde.ts';
import type { Cancellable, PunctuationType, StageContext } from '../stage.ts';
import { InMemoryKeyValueStore } from '../stores/in-memory-key-value-store.ts';
import { InMemoryWindowStore } from '../stores/in-memory-window-store.ts';
import type { StateStore } from '../stores/state-store.ts';
import { type SinkNode, type SourceNode, type StoreSpec, type Subtopology, Topology } from '../topology.ts';
import type { IncomingMessage, OutgoingMessage, TopicPartitionOffset } from '../transport/transport.ts';
import {
  type DeserializationErrorHandler,
  deadLetterMessage,
  decide,
  type ErrorContext,
  type ErrorKind,
  type ProcessingErrorHandler,
} from './error-handlers.ts';
import { FanOut } from './fan-out.ts';
import type { TopologyMetrics } from './metrics.ts';

type AnyRecord = StreamRecord<unknown, unknown>;
type AnyStore = InMemoryKeyValueStore<unknown, unknown> | InMemoryWindowStore<unknown, unknown>;
type Pending = OutgoingMessage | Promise<OutgoingMessage | null>;

/** Everything a task needs from whoever runs it (the streams runtime or the test driver). */
export interface TaskEnvironment {
  applicationId: string;
  topology: Topology;
  wallClock(): number;
  deserializationErrorHandler: DeserializationErrorHandler;
  processingErrorHandler: ProcessingErrorHandler;
  /** Where late records go (with DLQ-style headers); dropped and counted when unset. */
  lateRecordsTopic?: string;
  metrics?: TopologyMetrics;
  /** Partition count of a topic, for custom partitioners (undefined when unknown). */
  partitionCount(topic: string): number | undefined;
  logger: Logger;
}

interface Punctuator {
  type: PunctuationType;
  intervalMs: number;
  next: number;
  callback: (timestamp: number) => void;
  stage: string;
  cancelled: boolean;
}

interface SourceEntry {
  node: SourceNode;
  subject: FanOut<AnyRecord>;
  /** The source node's counters (looked up once, not per record). */
  counted: { in: number; out: number };
}

/** Bytes of a stream-time marker key in a window store's changelog (real keys are ≥ 8 bytes). */
const STREAM_TIME_KEY = Buffer.alloc(0);

function isPromise<T>(v: T | Promise<T>): v is Promise<T> {
  return typeof (v as { then?: unknown })?.then === 'function';
}

/**
 * One sub-topology × one partition: the RxJS pipeline of its stages, its stores, its stream
 * time and punctuators, and the outputs produced since the last `drain()`.
 *
 * Lifecycle: constructed when its partition is assigned; `restore` applies changelog records
 * before the first `process`; `process` runs one record synchronously through every stage (or
 * returns a promise when a serde is asynchronous); `drain` hands over the outputs, the changelog
 * writes and the consumed offsets since the previous drain; `close` tears the pipeline down
 * (processors' `close`). After a `fail` decision `process` throws the failure and the task must be
 * dropped without committing.
 */
export class Task {
  readonly id: string;
  readonly stores = new Map<string, AnyStore>();
  private readonly storeSpecs = new Map<string, StoreSpec>();
  private readonly sources = new Map<string, SourceEntry>();
  private readonly subscriptions: Subscription[] = [];
  private readonly counts = new Map<string, { in: number; out: number }>();
  private readonly punctuators: Punctuator[] = [];
  private readonly flushHooks: Array<{ stage: string; callback: () => void }> = [];
  private readonly restoredHooks: Array<{ stage: string; callback: (streamTime: number) => void }> = [];
  private streamTimeValue = Number.NEGATIVE_INFINITY;
  private lastMarkedStreamTime = Number.NEGATIVE_INFINITY;
  private out: Pending[] = [];
  private asyncOut = false;
  private current: IncomingMessage | undefined;
  private failure: LogFlowError | undefined;
  private offsets = new Map<string, number>();
  private errorLogs = 0;
  private closed = false;

  constructor(
    private readonly env: TaskEnvironment,
    readonly subtopology: Subtopology,
    readonly partition: number,
  ) {
    this.id = `${subtopology.id}_${partition}`;
    const topology = env.topology;
    for (const name of subtopology.stores) {
      const spec = topology.stores.get(name)!;
      this.storeSpecs.set(name, spec);
      this.stores.set(
        name,
        spec.kind === 'window'
          ? new InMemoryWindowStore(
              name,
              spec.windowSizeMs ?? 0,
              spec.retentionMs ?? spec.windowSizeMs ?? 0,
              spec.logging,
            )
          : new InMemoryKeyValueStore(name, spec.logging),
      );
    }
    this.buildPipeline();
  }

  /** Source topics of this task, as real names. */
  get topics(): string[] {
    return [...this.sources.keys()];
  }

  streamTime(): number {
    return this.streamTimeValue;
  }

  get failed(): LogFlowError | undefined {
    return this.failure;
  }

  /** Runs one source message through the pipeline. Returns a promise only when a serde is async. */
  process(message: IncomingMessage): void | Promise<void> {
    const source = this.sources.get(message.topic);
    if (!source) throw new LogFlowError('LF_ERR_INTERNAL', `task ${this.id} does not read ${message.topic}`);
    if (this.failure) throw this.failure;
    this.current = message;
    const node = source.node;
    let key: unknown;
    let value: unknown;
    try {
      key = node.keySerde!.deserialize(message.topic, message.key);
      value = node.valueSerde!.deserialize(message.topic, message.value);
    } catch (err) {
      this.deserializationFailed(node, message, err);
      return;
    }
    if (isPromise(key) || isPromise(value)) {
      return Promise.all([key, value]).then(
        ([k, v]) => this.push(source, message, k, v),
        (err) => {
          this.current = message;
          this.deserializationFailed(node, message, err);
        },
      );
    }
    this.push(source, message, key, value);
  }

  /** Fires wall-clock punctuators that are due at `now`. */
  punctuateWallClock(now: number): void {
    this.current = undefined;
    for (const p of this.punctuators) {
      if (p.cancelled || p.type !== 'wall-clock' || now < p.next) continue;
      p.next += p.intervalMs * (Math.floor((now - p.next) / p.intervalMs) + 1);
      this.runPunctuator(p, now);
    }
    if (this.failure) throw this.failure;
  }

  get hasWallClockPunctuators(): boolean {
    return this.punctuators.some((p) => p.type === 'wall-clock' && !p.cancelled);
  }

  /**
   * Hands over everything produced since the last drain: output messages, dead letters, and the
   * changelog records of the stores (one per dirty key). Plus the next offsets to commit for the
   * messages processed. Synchronous unless a serde was asynchronous.
   */
  drain(): { messages: OutgoingMessage[] | Promise<OutgoingMessage[]>; offsets: TopicPartitionOffset[] } {
    for (const hook of this.flushHooks) {
      this.current = undefined;
      try {
        hook.callback();
      } catch (err) {
        this.handleError('processing', hook.stage, err, undefined);
      }
    }
    this.writeChangelogs();
    this.flushMetrics();
    const pending = this.out;
    const hadAsync = this.asyncOut;
    this.out = [];
    this.asyncOut = false;
    const offsets: TopicPartitionOffset[] = [];
    for (const [topic, offset] of this.offsets) offsets.push({ topic, partition: this.partition, offset });
    this.offsets = new Map();
    if (!hadAsync) return { messages: pending as OutgoingMessage[], offsets };
    return {
      messages: Promise.all(pending).then((all) => all.filter((m): m is OutgoingMessage => m !== null)),
      offsets,
    };
  }

  /** Applies one changelog record to a store during restore. */
  restore(storeName: string, message: IncomingMessage): void | Promise<void> {
    const store = this.stores.get(storeName);
    const spec = this.storeSpecs.get(storeName);
    if (!store || !spec) return;
    const topic = message.topic;
    if (store instanceof InMemoryWindowStore) {
      const raw = message.key;
      if (!raw) return;
      if (raw.length === 0) {
        if (message.value && message.value.length === 8) {
          const t = Number(message.value.readBigInt64BE(0));
          if (t > this.streamTimeValue) this.streamTimeValue = t;
          this.lastMarkedStreamTime = this.streamTimeValue;
        }
        return;
      }
      const start = Number(raw.readBigInt64BE(raw.length - 8));
      const key = spec.keySerde!.deserialize(topic, raw.subarray(0, raw.length - 8));
      const value = message.value === null ? null : spec.valueSerde!.deserialize(topic, message.value);
      if (isPromise(key) || isPromise(value)) {
        return Promise.all([key, value]).then(([k, v]) => store.restore(k, start, v));
      }
      store.restore(key, start, value);
      return;
    }
    const key = spec.keySerde!.deserialize(topic, message.key);
    const value = message.value === null ? null : spec.valueSerde!.deserialize(topic, message.value);
    if (isPromise(key) || isPromise(value))
      return Promise.all([key, value]).then(([k, v]) => store.restore(k, v));
    store.restore(key, value);
  }

  /**
   * Called once a restore (or a kept task's catch-up) is complete, before the next record: windows
   * past their retention at the restored stream time go, then stages rebuild what they derive from
   * their stores (`StageContext.onRestored`).
   */
  restored(): void {
    for (const store of this.stores.values()) {
      if (store instanceof InMemoryWindowStore && Number.isFinite(this.streamTimeValue))
        store.expire(this.streamTimeValue);
    }
    for (const hook of this.restoredHooks) {
      this.current = undefined;
      try {
        hook.callback(this.streamTimeValue);
      } catch (err) {
        this.handleError('processing', hook.stage, err, undefined);
      }
    }
  }

  changelogTopic(store: string): string {
    return Topology.changelogTopic(this.env.applicationId, store);
  }

  /** Stores backed by a changelog. */
  get loggedStores(): string[] {
    return [...this.storeSpecs.values()].filter((s) => s.logging).map((s) => s.name);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.subscriptions) s.unsubscribe();
    for (const { subject } of this.sources.values()) subject.complete();
  }

  // ---------------------------------------------------------------------------------------------

  private push(source: SourceEntry, message: IncomingMessage, key: unknown, value: unknown): void {
    const record: AnyRecord = {
      key,
      value,
      timestamp: message.timestamp,
      headers: message.headers,
      topic: message.topic,
      partition: message.partition,
      offset: message.offset,
    };
    const extractor = source.node.timestampExtractor;
    if (extractor) {
      try {
        record.timestamp = extractor(record);
      } catch (err) {
        this.handleError('processing', source.node.name, err, record);
        this.afterRecord(message);
        return;
      }
    }
    if (record.timestamp > this.streamTimeValue) this.streamTimeValue = record.timestamp;
    this.current = message;
    source.counted.out++;
    source.subject.next(record);
    this.afterRecord(message);
  }

  private afterRecord(message: IncomingMessage): void {
    if (this.punctuators.length > 0) this.punctuateStreamTime();
    if (this.failure) throw this.failure;
    this.offsets.set(message.topic, message.offset + 1);
  }

  private deserializationFailed(node: SourceNode, message: IncomingMessage, err: unknown): void {
    this.handleError('deserialization', node.name, err, undefined);
    this.afterRecord(message);
  }

  private punctuateStreamTime(): void {
    const now = this.streamTimeValue;
    for (const p of this.punctuators) {
      if (p.cancelled || p.type !== 'stream-time') continue;
      if (Number.isNaN(p.next)) p.next = now + p.intervalMs;
      if (now < p.next) continue;
      p.next += p.intervalMs * (Math.floor((now - p.next) / p.intervalMs) + 1);
      this.runPunctuator(p, now);
    }
  }

  private runPunctuator(p: Punctuator, timestamp: number): void {
    try {
      p.callback(timestamp);
    } catch (err) {
      this.handleError('processing', p.stage, err, undefined);
    }
  }

  /** Routes a failure to its handler. Never throws. */
  handleError(
    kind: ErrorKind,
    stage: string,
    error: unknown,
    record: AnyRecord | undefined,
    source = this.current,
  ): OutgoingMessage | null {
    this.env.metrics?.errors.inc({ application: this.env.applicationId, stage, kind });
    const context: ErrorContext = { kind, error, stage, source, record };
    let decision: ReturnType<typeof decide>;
    try {
      decision = decide(
        kind === 'deserialization' ? this.env.deserializationErrorHandler : this.env.processingErrorHandler,
        context,
      );
    } catch (err) {
      decision = 'fail';
      error = err;
    }
    if (this.errorLogs++ < 20 || this.errorLogs % 1000 === 0) {
      const where = source ? { topic: source.topic, partition: source.partition, offset: source.offset } : {};
      // Dead-lettered records are kept (info); skipped ones are lost (warn); failures stop (error).
      const level = decision === 'continue' ? 'warn' : decision === 'fail' ? 'error' : 'info';
      this.env.logger[level](
        { stage, kind, ...where, error: describeError(error), decision, task: this.id },
        'record failed',
      );
    }
    if (decision === 'continue') return null;
    if (decision === 'fail') {
      this.failure ??= new LogFlowError(
        kind === 'deserialization'
          ? 'LF_ERR_SERDE_DESERIALIZE'
          : kind === 'serialization'
            ? 'LF_ERR_SERDE_SERIALIZE'
            : 'LF_ERR_PROCESSING',
        `${kind} failed in ${stage}: ${describeError(error)}`,
        { cause: error },
      );
      return null;
    }
    const dead = deadLetterMessage(decision.deadLetterTopic, context);
    this.out.push(dead);
    return dead;
  }

  private reportLate(stage: string, record: AnyRecord): void {
    this.env.metrics?.lateRecords.inc({ application: this.env.applicationId, stage });
    const topic = this.env.lateRecordsTopic;
    if (!topic) return;
    this.out.push(
      deadLetterMessage(topic, {
        kind: 'processing',
        stage,
        error: new Error(
          `late record: window closed (timestamp ${record.timestamp}, stream time ${this.streamTimeValue})`,
        ),
        source: this.current,
        record,
      }),
    );
  }

  private count(name: string): { in: number; out: number } {
    let c = this.counts.get(name);
    if (!c) {
      c = { in: 0, out: 0 };
      this.counts.set(name, c);
    }
    return c;
  }

  private flushMetrics(): void {
    const metrics = this.env.metrics;
    if (!metrics) return;
    const application = this.env.applicationId;
    for (const [self, parents] of this.inFromParents) for (const p of parents) self.in += p.out;
    for (const [stage, c] of this.counts) {
      if (c.in > 0) metrics.recordsIn.inc({ application, stage }, c.in);
      if (c.out > 0) metrics.recordsOut.inc({ application, stage }, c.out);
      c.in = 0;
      c.out = 0;
    }
  }

  private buildPipeline(): void {
    const topology = this.env.topology;
    const outputs = new Map<string, Observable<AnyRecord>>();
    for (const name of this.subtopology.nodes) {
      const node = topology.nodes.get(name)!;
      if (node.kind === 'source') {
        const subject = new FanOut<AnyRecord>();
        const counted = this.count(name);
        for (const raw of node.topics) {
          this.sources.set(topology.topicName(raw, this.env.applicationId), { node, subject, counted });
        }
        outputs.set(name, subject);
        continue;
      }
      const inputs = node.parents.map((p) => outputs.get(p)!);
      const counted = this.count(name);
      const input = inputs.length === 1 ? inputs[0] : merge(...inputs);
      if (node.kind === 'sink') {
        // A fixed topic's real name is resolved once, not per record.
        const topic =
          typeof node.topic === 'string' ? topology.topicName(node.topic, this.env.applicationId) : undefined;
        this.subscriptions.push(
          input.subscribe({
            next: (record) => {
              counted.in++;
              this.emitToSink(node, record, topic, counted);
            },
          }),
        );
        continue;
      }
      const subject = new FanOut<AnyRecord>();
      const ctx = this.stageContext(name, node.stores);
      this.subscriptions.push(
        input.pipe(node.stage(ctx)).subscribe({
          next: (record) => {
            counted.out++;
            subject.next(record);
          },
          error: (err) => {
            // A stage broke its contract (emitted `error`); the stream cannot go on.
            this.failure ??= new LogFlowError(
              'LF_ERR_PROCESSING',
              `stage ${name} ended its stream: ${describeError(err)}`,
              {
                cause: err,
              },
            );
          },
        }),
      );
      outputs.set(name, subject);
      // What a processor receives is what its parents emitted: counted at flush, not per record.
      this.inFromParents.push([counted, node.parents.map((p) => this.count(p))]);
    }
  }

  private readonly inFromParents: Array<[{ in: number }, Array<{ out: number }>]> = [];

  private emitToSink(
    node: SinkNode,
    record: AnyRecord,
    fixedTopic: string | undefined,
    counted: { out: number },
  ): void {
    let topic = '';
    try {
      topic = fixedTopic ?? (node.topic as (r: AnyRecord) => string)(record);
      const key = (node.keySerde as Serde<unknown>).serialize(topic, record.key);
      const value = (node.valueSerde as Serde<unknown>).serialize(topic, record.value);
      const partition = node.partitioner
        ? node.partitioner(topic, record.key, record.value, this.env.partitionCount(topic) ?? 1)
        : undefined;
      counted.out++;
      if (isPromise(key) || isPromise(value)) {
        const source = this.current;
        this.asyncOut = true;
        this.out.push(
          Promise.all([key, value]).then(
            ([k, v]) => ({
              topic,
              key: k,
              value: v,
              partition,
              timestamp: record.timestamp,
              headers: record.headers,
            }),
            (err) => this.handleError('serialization', node.name, err, record, source),
          ),
        );
        return;
      }
      this.out.push({ topic, key, value, partition, timestamp: record.timestamp, headers: record.headers });
    } catch (err) {
      this.handleError('serialization', node.name, err, record);
    }
  }

  private writeChangelogs(): void {
    for (const [name, store] of this.stores) {
      const spec = this.storeSpecs.get(name)!;
      if (!spec.logging) continue;
      const topic = this.changelogTopic(name);
      const keySerde = spec.keySerde!;
      const valueSerde = spec.valueSerde!;
      if (store instanceof InMemoryWindowStore) {
        for (const [key, start, value] of store.takeDirty()) {
          this.pushChangelog(
            topic,
            keySerde.serialize(topic, key),
            value === undefined ? null : valueSerde.serialize(topic, value),
            start,
          );
        }
        if (this.streamTimeValue > this.lastMarkedStreamTime) {
          this.lastMarkedStreamTime = this.streamTimeValue;
          const t = Buffer.allocUnsafe(8);
          t.writeBigInt64BE(BigInt(this.streamTimeValue));
          this.out.push({ topic, key: STREAM_TIME_KEY, value: t, partition: this.partition });
        }
      } else {
        for (const [key, value] of store.takeDirty()) {
          this.pushChangelog(
            topic,
            keySerde.serialize(topic, key),
            value === undefined ? null : valueSerde.serialize(topic, value),
          );
        }
      }
    }
  }

  private pushChangelog(
    topic: string,
    key: Buffer | null | Promise<Buffer | null>,
    value: Buffer | null | Promise<Buffer | null>,
    windowStart?: number,
  ): void {
    const make = (k: Buffer | null, v: Buffer | null): OutgoingMessage => {
      let keyBytes = k;
      if (windowStart !== undefined) {
        keyBytes = Buffer.allocUnsafe((k?.length ?? 0) + 8);
        k?.copy(keyBytes, 0);
        keyBytes.writeBigInt64BE(BigInt(windowStart), k?.length ?? 0);
      }
      return { topic, key: keyBytes, value: v, partition: this.partition };
    };
    if (isPromise(key) || isPromise(value)) {
      this.asyncOut = true;
      this.out.push(Promise.all([key, value]).then(([k, v]) => make(k, v)));
      return;
    }
    this.out.push(make(key, value));
  }

  private stageContext(stageName: string, storeNames: string[]): StageContext {
    const task = this;
    const allowed = new Set(storeNames);
    return {
      applicationId: this.env.applicationId,
      stageName,
      taskId: this.id,
      partition: this.partition,
      streamTime: () => task.streamTimeValue,
      wallClockTime: () => task.env.wallClock(),
      getStateStore<S extends StateStore = StateStore>(name: string): S {
        const store = allowed.has(name) ? task.stores.get(name) : undefined;
        if (!store) {
          throw new LogFlowError('LF_ERR_STATE_STORE', `stage ${stageName} did not declare store "${name}"`);
        }
        return store as unknown as S;
      },
      schedule(
        intervalMs: number,
        type: PunctuationType,
        callback: (timestamp: number) => void,
      ): Cancellable {
        if (!(intervalMs > 0))
          throw new LogFlowError('LF_ERR_CONFIG_INVALID', 'punctuation interval must be positive');
        const p: Punctuator = {
          type,
          intervalMs,
          callback,
          stage: stageName,
          cancelled: false,
          next:
            type === 'wall-clock'
              ? task.env.wallClock() + intervalMs
              : Number.isFinite(task.streamTimeValue)
                ? task.streamTimeValue + intervalMs
                : Number.NaN,
        };
        task.punctuators.push(p);
        return {
          cancel: () => {
            p.cancelled = true;
          },
        };
      },
      reportError: (error: unknown, record?: AnyRecord) => {
        task.handleError('processing', stageName, error, record);
      },
      reportLate: (record: AnyRecord) => task.reportLate(stageName, record),
      onFlush: (callback: () => void) => {
        task.flushHooks.push({ stage: stageName, callback });
      },
      onRestored: (callback: (streamTime: number) => void) => {
        task.restoredHooks.push({ stage: stageName, callback });
      },
    };
  }
}
