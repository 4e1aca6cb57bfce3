/**
 * The metrics materialiser (a sink connector): consumes `logs-metrics` with its own consumer group
 * and writes every window into a MetricsView (Redis in the distributed mode), committing a batch's
 * offsets only after the view acknowledged the write. Upserts are version-guarded, so replays
 * and duplicate deliveries change nothing.
 *
 * Rebuild: when the view lost its data (Redis flushed or restarted without persistence),
 * `rebuild()` clears it and replays the whole topic (every partition from offset 0 to its current
 * end) while normal consumption continues. With `watchIntervalMs` the materialiser checks the
 * view's marker key and rebuilds by itself when the marker is gone — also on the very first start.
 *
 * Metrics (on `registry`, default prom-client's `register`): the sinks' families with
 * sink="metrics-view" — `logflow_sink_records_total{result=written|skipped}` (windows written,
 * rebuilds included; undecodable windows skipped) and `logflow_sink_bulk_duration_seconds` per
 * view upsert — plus `logflow_sink_rebuilds_total{sink}` (rebuilds completed).
 *
 * Lifecycle: `start()` connects and consumes; `stop()` disconnects (idempotent); the view is the
 * caller's to close.
 */
import { Counter, type Registry, register } from 'prom-client';
import type { LogFlowConfig } from '../../common/config.ts';
import { describeError } from '../../common/errors.ts';
import { createLogger } from '../../common/logger.ts';
import type { MetricsView, MetricWindow } from '../../storage/metrics/types.ts';
import type { Serde } from '../../topology/serde.ts';
import type { Batch, Consumer, IncomingMessage, Transport } from '../../topology/transport/transport.ts';
import { type SinkMetrics, sinkMetrics } from '../elasticsearch/sink-metrics.ts';

/** Views that can tell whether they hold a materialisation (the Redis view). */
export interface MarkedView extends MetricsView {
  isMaterialised(): Promise<boolean>;
  markMaterialised(): Promise<void>;
}

function isMarked(view: MetricsView): view is MarkedView {
  return typeof (view as Partial<MarkedView>).isMaterialised === 'function';
}

export interface RedisMaterialiserOptions {
  transport: Transport;
  view: MetricsView;
  serde: Serde<MetricWindow>;
  topic?: string;
  groupId?: string;
  /** Check the view's marker this often and rebuild when it is gone. 0 = never. Default 5000. */
  watchIntervalMs?: number;
  /** Where the sink metrics (sink="metrics-view") go. Default prom-client's `register`. */
  registry?: Registry;
}

const SINK = 'metrics-view';

/** `logflow_sink_rebuilds_total`, get-or-create per registry like the other sink families. */
function rebuildsCounter(registry: Registry): Counter<'sink'> {
  return (
    (registry.getSingleMetric('logflow_sink_rebuilds_total') as Counter<'sink'> | undefined) ??
    new Counter({
      name: 'logflow_sink_rebuilds_total',
      help: 'Times a sink target was rebuilt from its topic after losing its data',
      labelNames: ['sink'] as const,
      registers: [registry],
    })
  );
}

export interface RedisMaterialiser {
  start(): Promise<void>;
  /** Clears the view and replays the topic from the beginning. Resolves when caught up to the end it saw. */
  rebuild(): Promise<number>;
  stop(): Promise<void>;
  /** Windows written since start (including rebuilds). */
  readonly written: number;
}

export function createRedisMaterialiser(
  config: LogFlowConfig,
  options: RedisMaterialiserOptions,
): RedisMaterialiser {
  return new Materialiser({ topic: config.topics.metrics, ...options });
}

class Materialiser implements RedisMaterialiser {
  private readonly log = createLogger('redis-materialiser');
  private consumer: Consumer | null = null;
  private timer: NodeJS.Timeout | null = null;
  private rebuilding: Promise<number> | null = null;
  private stopped = false;
  private readonly metrics: SinkMetrics;
  private readonly rebuilds: Counter<'sink'>;
  written = 0;

  constructor(private readonly options: RedisMaterialiserOptions & { topic: string }) {
    const registry = options.registry ?? register;
    this.metrics = sinkMetrics(registry);
    this.rebuilds = rebuildsCounter(registry);
  }

  async start(): Promise<void> {
    const { transport, topic } = this.options;
    if (isMarked(this.options.view) && !(await this.options.view.isMaterialised())) await this.rebuild();
    const consumer = transport.consumer({
      groupId: this.options.groupId ?? 'logflow-redis-materialiser',
      fromBeginning: true,
    });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe([topic]);
    await consumer.run({ eachBatch: (batch) => this.onBatch(batch) });
    const interval = this.options.watchIntervalMs ?? 5000;
    if (interval > 0 && isMarked(this.options.view)) {
      const view = this.options.view;
      this.timer = setInterval(() => {
        if (this.rebuilding || this.stopped) return;
        view
          .isMaterialised()
          .then((ok) => (ok ? undefined : this.rebuild()))
          .catch((err) => this.log.warn({ err: describeError(err) }, 'materialisation check failed'));
      }, interval);
      this.timer.unref();
    }
  }

  rebuild(): Promise<number> {
    if (!this.rebuilding) {
      this.rebuilding = this.replay().finally(() => {
        this.rebuilding = null;
      });
    }
    return this.rebuilding;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.rebuilding?.catch(() => 0);
    await this.consumer?.disconnect();
  }

  private async onBatch(batch: Batch): Promise<void> {
    const windows = await this.decode(batch.topic, batch.messages);
    await this.upsert(windows);
    this.written += windows.length;
    const last = batch.messages[batch.messages.length - 1];
    await this.consumer?.commit([
      { topic: batch.topic, partition: batch.partition, offset: last.offset + 1 },
    ]);
  }

  private async replay(): Promise<number> {
    const { transport, topic, view } = this.options;
    this.log.info({ topic }, 'rebuilding the metrics view from the topic');
    await view.clear();
    let count = 0;
    const partitions = await transport.partitionCount(topic);
    for (let p = 0; p < partitions && !this.stopped; p++) {
      for await (const messages of transport.readPartition(topic, p, 0)) {
        const windows = await this.decode(topic, messages);
        await this.upsert(windows);
        count += windows.length;
        if (this.stopped) break;
      }
    }
    if (isMarked(view)) await view.markMaterialised();
    this.written += count;
    this.rebuilds.inc({ sink: SINK });
    this.log.info({ topic, windows: count }, 'metrics view rebuilt');
    return count;
  }

  private async upsert(windows: MetricWindow[]): Promise<void> {
    const started = performance.now();
    try {
      await this.options.view.upsert(windows);
    } catch (err) {
      this.metrics.bulkDuration.observe(
        { sink: SINK, outcome: 'failed' },
        (performance.now() - started) / 1000,
      );
      throw err;
    }
    this.metrics.bulkDuration.observe({ sink: SINK, outcome: 'ok' }, (performance.now() - started) / 1000);
    if (windows.length > 0) this.metrics.records.inc({ sink: SINK, result: 'written' }, windows.length);
  }

  private async decode(topic: string, messages: IncomingMessage[]): Promise<MetricWindow[]> {
    const out: MetricWindow[] = [];
    for (const m of messages) {
      try {
        out.push(await this.options.serde.deserialize(topic, m.value));
      } catch (err) {
        // A window that cannot be decoded can never be shown; skipping it keeps the view live.
        this.metrics.records.inc({ sink: SINK, result: 'skipped' });
        this.log.error(
          { topic, partition: m.partition, offset: m.offset, err: describeError(err) },
          'undecodable metric window skipped',
        );
      }
    }
    return out;
  }
}
