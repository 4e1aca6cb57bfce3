/**
 * LogFlow's topology framework: a Kafka Streams-style DSL over RxJS, with state stores backed by
 * changelog topics, event-time windows, at-least-once or exactly-once processing, and a test
 * driver. See topology/README.md.
 */
export { KGroupedStream } from './dsl/kgrouped-stream.ts';
export { KStream, type Predicate } from './dsl/kstream.ts';
export { KTable } from './dsl/ktable.ts';
export { LongSerde } from './dsl/long-serde.ts';
export {
  Consumed,
  EmitStrategy,
  Grouped,
  Materialized,
  Produced,
  type StreamPartitioner,
  Suppressed,
  type TimestampExtractor,
} from './dsl/params.ts';
export { SlidingWindowedKStream } from './dsl/sliding-windowed-kstream.ts';
export { Stores } from './dsl/stores.ts';
export type { ValueJoiner } from './dsl/table-stages.ts';
export { TimeWindowedKStream } from './dsl/time-windowed-kstream.ts';
export { TopologyBuilder, type TopologyBuilderOptions } from './dsl/topology-builder.ts';
export type { Headers, StreamRecord } from './record.ts';
export {
  type DeserializationErrorHandler,
  DLQ_HEADERS,
  type ErrorContext,
  type ErrorDecision,
  ErrorHandlers,
  type ErrorKind,
  type ProcessingErrorHandler,
} from './runtime/error-handlers.ts';
export {
  LogFlowStreams,
  type ProcessingGuarantee,
  type StreamsConfig,
  type StreamsState,
} from './runtime/logflow-streams.ts';
export { TopologyMetrics } from './runtime/metrics.ts';
export { type Closable, closeOnSignals } from './runtime/shutdown.ts';
export type { Serde } from './serde.ts';
export { Serdes } from './serdes/index.ts';
export type { AnyStage, Cancellable, PunctuationType, Stage, StageContext } from './stage.ts';
export type { Aggregator, Initializer } from './stages/aggregate.ts';
export type { KeyValue } from './stages/map.ts';
export { perRecord } from './stages/per-record.ts';
export type { Processor, ProcessorContext, ProcessorSupplier } from './stages/process.ts';
export { InMemoryKeyValueStore } from './stores/in-memory-key-value-store.ts';
export { InMemoryWindowStore } from './stores/in-memory-window-store.ts';
export type { KeyValueStore, StateStore, WindowStore, WindowStoreEntry } from './stores/state-store.ts';
export { TestInputTopic, type TestRecord } from './test-driver/test-input-topic.ts';
export { type TestOutputRecord, TestOutputTopic } from './test-driver/test-output-topic.ts';
export { type TestDriverConfig, TopologyTestDriver } from './test-driver/topology-test-driver.ts';
export {
  type StoreSpec,
  type Subtopology,
  type TopicNameExtractor,
  Topology,
  TopologyDescription,
} from './topology.ts';
export { MemoryTransport, type MemoryTransportOptions } from './transport/memory-transport.ts';
export { murmur2, partitionForKey } from './transport/murmur2.ts';
export type * from './transport/transport.ts';
export { SlidingWindows } from './windows/sliding-windows.ts';
export { TimeWindows } from './windows/time-windows.ts';
export type { Window, Windowed } from './windows/windowed.ts';
export { TimeWindowedSerde, WindowedSerdes } from './windows/windowed-serde.ts';
