/**
 * The alert stage: logs-metrics → per-(rule, service) state machines → alerts.
 *
 *   stream(logs-metrics) → process(alert processor, [alert-state]) → alerts (keyed by fingerprint)
 *
 * Rules come from an AlertRuleSource and are reloaded when they change (no restart); history is
 * written by an AlertHistoryRecorder consuming the `alerts` topic (commit after the database
 * acknowledged). See docs/alerts.md for the event contract.
 *
 * Lifecycle: `start(transport)` loads the rules (before the topology runs — the processor does not
 * evaluate until they are loaded) and starts the history recorder; run `topology` with the
 * runtime; `stop()` stops both (idempotent).
 */
import type { LogFlowConfig } from '../../common/config.ts';
import type { MetricWindow } from '../../storage/metrics/types.ts';
import {
  Consumed,
  Produced,
  type Serde,
  Serdes,
  Stores,
  type TopicSpec,
  type Topology,
  TopologyBuilder,
  type Transport,
} from '../../topology/index.ts';
import { ALERT_STORE, alertProcessor } from './alert-processor.ts';
import { AlertHistoryRecorder } from './history-recorder.ts';
import { RuleCache } from './rule-cache.ts';
import type { AlertEvent, AlertHistorySink, AlertRuleSource, SilenceSource } from './types.ts';

export interface AlertSerdes {
  metrics: Serde<MetricWindow>;
  alerts: Serde<AlertEvent>;
}

export interface AlertTopologyOptions {
  /** Wall-clock evaluation interval. Default 1000 ms. */
  tickMs?: number;
  silences?: SilenceSource;
  /** Rule reload safety-net interval. Default 30 s. */
  refreshMs?: number;
  inputTopic?: string;
  outputTopic?: string;
  /** Partitions of the metrics topic. Default config.partitions. */
  partitions?: number;
}

export interface AlertStage {
  readonly topology: Topology;
  readonly rules: RuleCache;
  start(transport?: Transport): Promise<void>;
  stop(): Promise<void>;
}

export function buildAlertTopology(
  config: LogFlowConfig,
  serdes: AlertSerdes,
  ruleSource: AlertRuleSource,
  historySink?: AlertHistorySink,
  options: AlertTopologyOptions = {},
): AlertStage {
  const rules = new RuleCache(ruleSource, options.silences, options.refreshMs);
  const builder = new TopologyBuilder();
  const stringSerde = Serdes.String();
  const outputTopic = options.outputTopic ?? config.topics.alerts;
  builder.addStateStore(Stores.keyValueStore(ALERT_STORE, stringSerde, Serdes.Json()));
  builder
    .stream<string, MetricWindow>(
      options.inputTopic ?? config.topics.metrics,
      Consumed.with(stringSerde, serdes.metrics).withName('logs-metrics-source'),
    )
    .process(
      alertProcessor({
        rules,
        partitions: options.partitions ?? config.partitions,
        tickMs: options.tickMs ?? 1000,
      }),
      [ALERT_STORE],
      'alert-evaluator',
    )
    .to(outputTopic, Produced.with(stringSerde, serdes.alerts).withName('alerts-sink'));
  const topology = builder.build();

  let recorder: AlertHistoryRecorder | null = null;
  return {
    topology,
    rules,
    async start(transport) {
      await rules.start();
      if (transport && historySink) {
        recorder = new AlertHistoryRecorder({
          transport,
          serde: serdes.alerts,
          sink: historySink,
          topic: outputTopic,
        });
        await recorder.start();
      }
    },
    async stop() {
      rules.stop();
      await recorder?.stop();
    },
  };
}

/** How LogFlowStreams should run this stage (exactly-once: a restart never re-emits a FIRING). */
export function alertStreamsConfig(_config: LogFlowConfig): {
  applicationId: string;
  processingGuarantee: 'exactly_once';
} {
  return { applicationId: 'logflow-alert', processingGuarantee: 'exactly_once' };
}

/** The alerts topic: keyed by fingerprint; retention long enough for the webhook's give-up window. */
export function alertTopicSpecs(config: LogFlowConfig): TopicSpec[] {
  return [
    {
      name: config.topics.alerts,
      partitions: config.partitions,
      configs: { 'retention.ms': String(30 * 24 * 3_600_000) },
    },
  ];
}
