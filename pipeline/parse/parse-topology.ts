/**
 * The parse stage as a topology: logs-raw (Avro RawLog) → parseRawLog → logs-parsed (Avro ParsedLog).
 *
 *   stream(logs-raw) → filter(non-null) → mapValues(parseRawLog) → to(logs-parsed)
 *
 * Stateless, so it scales by adding members to its consumer group (one per partition at most).
 * The key (the shipper's file path) is passed through untouched, so each file's logs stay in
 * order in one partition of logs-parsed too. A record whose bytes cannot be decoded is not a log
 * we can keep: `parseStreamsConfig` sends it to the dead-letter topic with headers naming the
 * error and its source position; everything that decodes becomes a log (unknown formats with
 * level UNKNOWN), so nothing that decodes is ever dropped.
 */
import type { LogFlowConfig } from '../../common/config.ts';
import type { ParsedLog } from '../../storage/logs/types.ts';
import {
  Consumed,
  Produced,
  type Serde,
  Serdes,
  type Topology,
  TopologyBuilder,
} from '../../topology/index.ts';
import {
  type DeserializationErrorHandler,
  ErrorHandlers,
  type ProcessingErrorHandler,
} from '../../topology/runtime/error-handlers.ts';
import type { TopicSpec } from '../../topology/transport/transport.ts';
import { parseRawLog } from './parse-raw-log.ts';
import type { RawLog } from './raw-log.ts';

export interface ParseSerdes {
  raw: Serde<RawLog>;
  parsed: Serde<ParsedLog>;
}

export interface ParseTopologyOptions {
  inputTopic?: string;
  outputTopic?: string;
  /** `ingested_at` clock; default the wall clock. */
  clock?: () => number;
}

export function buildParseTopology(
  config: LogFlowConfig,
  serdes: ParseSerdes,
  options: ParseTopologyOptions = {},
): Topology {
  const clock = options.clock ?? Date.now;
  const keySerde = Serdes.Bytes() as Serde<Buffer | null>;
  const builder = new TopologyBuilder();
  builder
    .stream<Buffer | null, RawLog>(
      options.inputTopic ?? config.topics.raw,
      Consumed.with<Buffer | null, RawLog>(keySerde, serdes.raw).withName('logs-raw-source'),
    )
    .filter((_key, raw) => raw !== null && raw !== undefined, 'drop-tombstones')
    .mapValues((raw) => parseRawLog(raw, clock()), 'parse')
    .to(
      options.outputTopic ?? config.topics.parsed,
      Produced.with<Buffer | null, ParsedLog>(keySerde, serdes.parsed).withName('logs-parsed-sink'),
    );
  return builder.build();
}

/** How the parse stage's runtime handles bad records: undecodable bytes go to the dead-letter topic. */
export function parseStreamsConfig(config: LogFlowConfig): {
  applicationId: string;
  deserializationErrorHandler: DeserializationErrorHandler;
  processingErrorHandler: ProcessingErrorHandler;
  maxBatchSize: number;
} {
  return {
    applicationId: 'logflow-parse',
    // One kafkajs fetch of a partition holds ~7,000 raw records (1 MiB): handing it over in
    // 1,000-record slices (the runtime's default) cost a produce request and a pass through the
    // runtime per slice, and the producer sends one request at a time.
    maxBatchSize: 5_000,
    deserializationErrorHandler: ErrorHandlers.deadLetter(config.topics.deadLetter),
    // parseRawLog is total; should a bug throw anyway, the record is kept in the DLQ, not lost.
    processingErrorHandler: ErrorHandlers.deadLetter(config.topics.deadLetter),
  };
}

/** The topics this stage reads and writes (for `transport.ensureTopics`). */
export function parseTopicSpecs(config: LogFlowConfig): TopicSpec[] {
  return [
    { name: config.topics.raw, partitions: config.partitions },
    { name: config.topics.parsed, partitions: config.partitions },
    { name: config.topics.deadLetter, partitions: 1 },
  ];
}
