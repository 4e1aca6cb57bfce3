/**
 * The aggregate stage: logs-parsed → per-service tumbling windows → logs-metrics.
 *
 *   stream(logs-parsed) → pre-aggregator (partial counts per service, minute, level)
 *     → repartition by service
 *     ├─ groupByKey → windowedBy(1m, grace) → aggregate(level counts) ─┐
 *     └─ groupByKey → windowedBy(1h, grace) → aggregate(level counts) ─┴→ window emitter → logs-metrics
 *
 * Event time is the log's own timestamp. The pre-aggregator (a combiner) sends partial counts per
 * batch instead of one record per log across the repartition topic, so the shuffle stays small at
 * any input rate. Windows accept records until stream time passes their end + grace; later
 * records are reported late (counted in the late-records metric, not aggregated).
 *
 * Grace is generous on purpose (15 min for 1m windows, 1 h for 1h windows) rather than the
 * usual seconds: results are emitted on update, so grace costs no latency — only a few more
 * windows in memory — while catching up (after a restart, or a burst read from several input
 * partitions at different speeds) stream time of a task runs minutes ahead of the records still
 * coming from slower partitions. With a 10 s grace those would be dropped and the counts would no
 * longer equal a recount of logs-parsed. Output is keyed by service, so one
 * service's windows stay ordered in one partition of logs-metrics for the alert stage.
 *
 * Emission: every window update is kept in the emitter and flushed every `emitIntervalMs`
 * (default 1 s) with its cumulative counts and `version` = number of logs aggregated, so readers
 * see near-real-time counts (the alert stage fires within about a second of the threshold being
 * crossed) while the topic carries at most one update per window per interval.
 */
import type { LogFlowConfig } from '../../common/config.ts';
import type { ParsedLog } from '../../storage/logs/types.ts';
import type { MetricResolution, MetricWindow } from '../../storage/metrics/types.ts';
import { HOUR_MS, MINUTE_MS } from '../../storage/metrics/windows.ts';
import {
  Consumed,
  Grouped,
  Materialized,
  Produced,
  type Serde,
  Serdes,
  Stores,
  TimeWindows,
  type TopicSpec,
  type Topology,
  TopologyBuilder,
} from '../../topology/index.ts';
import { addCounts, emptyCounts, type LevelCounts, toMetricWindow } from './level-counts.ts';
import { type PartialCounts, preAggregator } from './pre-aggregator.ts';
import { PENDING_STORE, windowEmitter } from './window-emitter.ts';

export interface AggregateSerdes {
  parsed: Serde<ParsedLog>;
  metrics: Serde<MetricWindow>;
}

export interface AggregateTopologyOptions {
  /** Grace after a 1m window ends during which late logs still count. Default 15 min. */
  graceMs?: number;
  /** Grace of the 1h rollup windows. Default 1 h. */
  hourlyGraceMs?: number;
  /** How often window updates are flushed to logs-metrics. 0 = every update. Default 1000. */
  emitIntervalMs?: number;
  /** Also emit 1h rollups. Default true. */
  hourly?: boolean;
  /** Input/output topics (default config.topics.parsed / config.topics.metrics). */
  inputTopic?: string;
  outputTopic?: string;
}

export const MINUTE_STORE = 'metrics-1m';
export const HOUR_STORE = 'metrics-1h';

export function buildAggregateTopology(
  config: LogFlowConfig,
  serdes: AggregateSerdes,
  options: AggregateTopologyOptions = {},
): Topology {
  const minuteGrace = options.graceMs ?? 15 * MINUTE_MS;
  const hourGrace = options.hourlyGraceMs ?? HOUR_MS;
  const builder = new TopologyBuilder();
  const countsSerde = Serdes.Json<LevelCounts>();
  const stringSerde = Serdes.String();

  const partialSerde = Serdes.Json<PartialCounts>();
  const partials = builder
    .stream<unknown, ParsedLog>(
      options.inputTopic ?? config.topics.parsed,
      Consumed.with<unknown, ParsedLog>(Serdes.Bytes() as Serde<unknown>, serdes.parsed)
        .withTimestampExtractor((r) => r.value?.timestamp ?? r.timestamp)
        .withName('logs-parsed-source'),
    )
    .process(preAggregator(), [], 'pre-aggregator')
    .repartition(Grouped.with(stringSerde, partialSerde).withName('metrics-by-service'));

  const resolutions: [MetricResolution, number, number, string][] = [
    ['1m', MINUTE_MS, minuteGrace, MINUTE_STORE],
  ];
  if (options.hourly ?? true) resolutions.push(['1h', HOUR_MS, hourGrace, HOUR_STORE]);

  builder.addStateStore(Stores.keyValueStore(PENDING_STORE, stringSerde, serdes.metrics));
  const windowsOut = resolutions.map(([resolution, size, grace, store]) =>
    partials
      .groupByKey(Grouped.with(stringSerde, partialSerde))
      .windowedBy(TimeWindows.ofSizeAndGrace(size, grace))
      .aggregate<LevelCounts>(
        emptyCounts,
        (_service, partial, agg) => addCounts(agg, partial.counts),
        Materialized.as<string, LevelCounts>(store).withKeySerde(stringSerde).withValueSerde(countsSerde),
      )
      .toStream()
      .map<string, MetricWindow>(
        (windowed, counts) => [
          windowed.key,
          toMetricWindow(windowed.key, windowed.window.start, resolution, counts),
        ],
        `to-metric-window-${resolution}`,
      ),
  );
  const merged =
    windowsOut.length > 1 ? windowsOut[0].merge(windowsOut[1], 'all-resolutions') : windowsOut[0];
  merged
    .process(windowEmitter(options.emitIntervalMs ?? 1000), [PENDING_STORE], 'window-emitter')
    .to(
      options.outputTopic ?? config.topics.metrics,
      Produced.with(stringSerde, serdes.metrics).withName('logs-metrics-sink'),
    );
  return builder.build();
}

/**
 * How LogFlowStreams should run this stage. Exactly-once is what keeps counts equal to a recount
 * across crashes (at-least-once would count replayed logs twice).
 */
export function aggregateStreamsConfig(_config: LogFlowConfig): {
  applicationId: string;
  processingGuarantee: 'exactly_once';
} {
  return { applicationId: 'logflow-aggregate', processingGuarantee: 'exactly_once' };
}

/** The topics this stage reads and writes (for `transport.ensureTopics`). 1h windows must survive 31 days. */
export function aggregateTopicSpecs(config: LogFlowConfig): TopicSpec[] {
  return [
    { name: config.topics.parsed, partitions: config.partitions },
    {
      name: config.topics.metrics,
      partitions: config.partitions,
      configs: { 'retention.ms': String(32 * 24 * HOUR_MS) },
    },
  ];
}
