/** The aggregate stage: logs-parsed → per-service 1m/1h windows → logs-metrics. */
export {
  type AggregateSerdes,
  type AggregateTopologyOptions,
  aggregateStreamsConfig,
  aggregateTopicSpecs,
  buildAggregateTopology,
  HOUR_STORE,
  MINUTE_STORE,
} from './aggregate-topology.ts';
export {
  addCounts,
  addLevel,
  emptyCounts,
  errorRate,
  type LevelCounts,
  toMetricWindow,
} from './level-counts.ts';
export { type PartialCounts, preAggregator } from './pre-aggregator.ts';
export { PENDING_STORE, windowEmitter } from './window-emitter.ts';
