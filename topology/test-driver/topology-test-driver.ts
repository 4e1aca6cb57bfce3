import { Registry } from 'prom-client';
import { LogFlowError } from '../../common/errors.ts';
import { createLogger } from '../../common/logger.ts';
import type { Headers } from '../record.ts';
import type { DeserializationErrorHandler, ProcessingErrorHandler } from '../runtime/error-handlers.ts';
import { TopologyMetrics } from '../runtime/metrics.ts';
import { Task } from '../runtime/task.ts';
import type { Serde } from '../serde.ts';
import type { KeyValueStore, StateStore, WindowStore } from '../stores/state-store.ts';
import type { Topology } from '../topology.ts';
import type { IncomingMessage, OutgoingMessage } from '../transport/transport.ts';
import { TestInputTopic } from './test-input-topic.ts';
import { TestOutputTopic } from './test-output-topic.ts';

export interface TestDriverConfig {
  applicationId?: string;
  /** Virtual wall-clock time at start (ms). Default 0. */
  initialWallClockTimeMs?: number;
  /** Default `fail` (unlike the runtime's `continue`), so a test sees a bad record as a thrown error. */
  deserializationErrorHandler?: DeserializationErrorHandler;
  /** Default `fail`, as above. */
  processingErrorHandler?: ProcessingErrorHandler;
  lateRecordsTopic?: string;
  /** Metrics go here (a fresh registry by default), so tests can assert on them. */
  metricsRegistry?: Registry;
}

/**
 * Runs a topology synchronously with no broker and virtual time, as Kafka Streams'
 * TopologyTestDriver does: every sub-topology runs as one task on partition 0; a record piped in
 * is processed, and everything it causes (including hops through repartition topics and topics
 * the topology reads back) completes before `pipeInput` returns. Outputs, dead letters and
 * changelogs are kept per topic for `TestOutputTopic`s to read.
 *
 * Serdes must be synchronous here (an async serde throws LF_ERR_CONFIG_INVALID).
 * Lifecycle: construct, pipe/read/advance, `close()` (idempotent; closes processors).
 */
export class TopologyTestDriver {
  readonly applicationId: string;
  readonly metrics: TopologyMetrics;
  private readonly tasks: Task[];
  private readonly taskByTopic = new Map<string, Task>();
  private readonly topics = new Map<string, IncomingMessage[]>();
  private wallClock: number;
  private closed = false;

  constructor(
    readonly topology: Topology,
    config: TestDriverConfig = {},
  ) {
    this.applicationId = config.applicationId ?? 'test-app';
    this.wallClock = config.initialWallClockTimeMs ?? 0;
    this.metrics = new TopologyMetrics(config.metricsRegistry ?? new Registry());
    const env = {
      applicationId: this.applicationId,
      topology,
      wallClock: () => this.wallClock,
      deserializationErrorHandler: config.deserializationErrorHandler ?? 'fail',
      processingErrorHandler: config.processingErrorHandler ?? 'fail',
      lateRecordsTopic: config.lateRecordsTopic,
      metrics: this.metrics,
      partitionCount: () => 1,
      logger: createLogger('test-driver', { applicationId: this.applicationId }),
    };
    this.tasks = topology.subtopologies.map((sub) => new Task(env, sub, 0));
    for (const task of this.tasks) for (const topic of task.topics) this.taskByTopic.set(topic, task);
  }

  createInputTopic<K, V>(name: string, keySerde: Serde<K>, valueSerde: Serde<V>): TestInputTopic<K, V> {
    return new TestInputTopic(this, name, keySerde, valueSerde);
  }

  createOutputTopic<K, V>(name: string, keySerde: Serde<K>, valueSerde: Serde<V>): TestOutputTopic<K, V> {
    return new TestOutputTopic(this, name, keySerde, valueSerde);
  }

  /** Advances virtual wall-clock time and fires the wall-clock punctuators that became due. */
  advanceWallClockTime(ms: number): void {
    if (this.closed) throw new LogFlowError('LF_ERR_CONFIG_INVALID', 'the test driver is closed');
    this.wallClock += ms;
    for (const task of this.tasks) {
      task.punctuateWallClock(this.wallClock);
      // What a punctuator forwards into a topic the topology reads (a repartition topic) must
      // flow on downstream, exactly as a piped record's does.
      this.processAll(this.settle(task));
    }
  }

  getStateStore<S extends StateStore = StateStore>(name: string): S | undefined {
    for (const task of this.tasks) {
      const store = task.stores.get(name);
      if (store) return store as unknown as S;
    }
    return undefined;
  }

  getKeyValueStore<K, V>(name: string): KeyValueStore<K, V> | undefined {
    return this.getStateStore<KeyValueStore<K, V>>(name);
  }

  getWindowStore<K, V>(name: string): WindowStore<K, V> | undefined {
    return this.getStateStore<WindowStore<K, V>>(name);
  }

  /** Every topic that received messages so far (outputs, repartition, changelogs, dead letters). */
  producedTopicNames(): string[] {
    return [...this.topics.keys()];
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const task of this.tasks) task.close();
  }

  /** @internal Appends a serialized message to a topic and processes everything it causes. */
  pipe(topic: string, key: Buffer | null, value: Buffer | null, timestamp: number, headers: Headers): void {
    if (this.closed) throw new LogFlowError('LF_ERR_CONFIG_INVALID', 'the test driver is closed');
    if (!this.taskByTopic.has(topic)) {
      throw new LogFlowError('LF_ERR_TRANSPORT_UNKNOWN_TOPIC', `the topology does not read topic ${topic}`);
    }
    this.processAll([this.append({ topic, key, value, timestamp, headers })]);
  }

  /** Processes stored messages and, breadth-first, everything they cause. */
  private processAll(queue: IncomingMessage[]): void {
    while (queue.length > 0) {
      const message = queue.shift()!;
      const task = this.taskByTopic.get(message.topic);
      if (!task) continue;
      const result = task.process(message);
      if (result) throw asyncSerdeError();
      queue.push(...this.settle(task));
    }
  }

  /** @internal Messages of a topic from `position` on. */
  read(topic: string, position: number): IncomingMessage[] {
    return (this.topics.get(topic) ?? []).slice(position);
  }

  /** Drains a task; returns the produced messages that the topology itself reads. */
  private settle(task: Task): IncomingMessage[] {
    const { messages } = task.drain();
    if (!Array.isArray(messages)) throw asyncSerdeError();
    const next: IncomingMessage[] = [];
    for (const m of messages) {
      const stored = this.append(m);
      if (this.taskByTopic.has(stored.topic)) next.push(stored);
    }
    return next;
  }

  private append(m: OutgoingMessage): IncomingMessage {
    let log = this.topics.get(m.topic);
    if (!log) {
      log = [];
      this.topics.set(m.topic, log);
    }
    const stored: IncomingMessage = {
      topic: m.topic,
      partition: 0,
      offset: log.length,
      key: m.key,
      value: m.value,
      timestamp: m.timestamp ?? this.wallClock,
      headers: m.headers ?? {},
    };
    log.push(stored);
    return stored;
  }
}

function asyncSerdeError(): LogFlowError {
  return new LogFlowError(
    'LF_ERR_CONFIG_INVALID',
    'TopologyTestDriver needs synchronous serdes (an asynchronous serde was used)',
  );
}
