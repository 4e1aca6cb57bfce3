import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * The topology's Prometheus metrics, registered once per registry (several runtimes may share
 * one). Labels stay low-cardinality: application = the application id (consumer group), stage =
 * node name, kind = error kind, store = store name, group/topic/partition for lag (bounded by the
 * partition count). Node and store names are only unique within one topology, so every per-stage
 * and per-store series carries its application: two applications with a same-named stage (say
 * "drop-tombstones") stay two series. Reporters outside a topology (the shipper) may omit it.
 */
export class TopologyMetrics {
  readonly recordsIn: Counter<'application' | 'stage'>;
  readonly recordsOut: Counter<'application' | 'stage'>;
  readonly errors: Counter<'application' | 'stage' | 'kind'>;
  readonly latency: Histogram<'application' | 'stage'>;
  readonly lag: Gauge<'group' | 'topic' | 'partition'>;
  readonly commitLatency: Histogram<'group'>;
  readonly restoreRecords: Counter<'application' | 'store'>;
  readonly lateRecords: Counter<'application' | 'stage'>;

  constructor(readonly registry: Registry) {
    const get = <T>(name: string, make: () => T): T =>
      (registry.getSingleMetric(name) as T | undefined) ?? make();
    const registers = [registry];
    this.recordsIn = get(
      'logflow_stage_records_in_total',
      () =>
        new Counter({
          name: 'logflow_stage_records_in_total',
          help: 'Records a stage received',
          labelNames: ['application', 'stage'],
          registers,
        }),
    );
    this.recordsOut = get(
      'logflow_stage_records_out_total',
      () =>
        new Counter({
          name: 'logflow_stage_records_out_total',
          help: 'Records a stage emitted',
          labelNames: ['application', 'stage'],
          registers,
        }),
    );
    this.errors = get(
      'logflow_stage_errors_total',
      () =>
        new Counter({
          name: 'logflow_stage_errors_total',
          help: 'Records that failed in a stage, by kind (deserialization, processing, serialization)',
          labelNames: ['application', 'stage', 'kind'],
          registers,
        }),
    );
    this.latency = get(
      'logflow_stage_latency_seconds',
      () =>
        new Histogram({
          name: 'logflow_stage_latency_seconds',
          help: 'Processing time per record through a sub-topology (observed per batch as the batch average)',
          labelNames: ['application', 'stage'],
          buckets: [1e-7, 1e-6, 5e-6, 1e-5, 5e-5, 1e-4, 5e-4, 1e-3, 5e-3, 1e-2, 0.1],
          registers,
        }),
    );
    this.lag = get(
      'logflow_consumer_lag',
      () =>
        new Gauge({
          name: 'logflow_consumer_lag',
          help: 'Messages between the last processed offset and the partition end',
          labelNames: ['group', 'topic', 'partition'],
          registers,
        }),
    );
    this.commitLatency = get(
      'logflow_commit_latency_seconds',
      () =>
        new Histogram({
          name: 'logflow_commit_latency_seconds',
          help: 'Time to commit offsets (or a transaction)',
          labelNames: ['group'],
          buckets: [1e-4, 5e-4, 1e-3, 5e-3, 1e-2, 5e-2, 0.1, 0.5, 1, 5],
          registers,
        }),
    );
    this.restoreRecords = get(
      'logflow_state_restore_records_total',
      () =>
        new Counter({
          name: 'logflow_state_restore_records_total',
          help: 'Changelog records applied while restoring a state store',
          labelNames: ['application', 'store'],
          registers,
        }),
    );
    this.lateRecords = get(
      'logflow_late_records_total',
      () =>
        new Counter({
          name: 'logflow_late_records_total',
          help: 'Records dropped because their window had closed (end + grace <= stream time)',
          labelNames: ['application', 'stage'],
          registers,
        }),
    );
  }
}
