/**
 * The composition root's shared resources, built from config on first use and closed together:
 * the transport (in-process or Kafka), the serdes, the search store, the metrics view, the
 * database and one Prometheus registry for everything running in this process.
 */
import { mkdirSync } from 'node:fs';
import { Registry } from 'prom-client';
import type { LogFlowConfig } from '../common/config.ts';
import { openDatabase } from '../storage/db/open-database.ts';
import type { Database } from '../storage/db/types.ts';
import { createLogSearchStore } from '../storage/logs/create-log-search-store.ts';
import type { LogSearchStore } from '../storage/logs/types.ts';
import { createMetricsView } from '../storage/metrics/create-metrics-view.ts';
import type { MetricsView } from '../storage/metrics/types.ts';
import { KafkaTransport } from '../topology/transport/kafka-transport.ts';
import { MemoryTransport } from '../topology/transport/memory-transport.ts';
import type { Transport } from '../topology/transport/transport.ts';
import { type PipelineSerdes, pipelineSerdes } from './serdes.ts';

export class AppContext {
  readonly registry = new Registry();
  private transportValue?: Transport;
  private serdesValue?: PipelineSerdes;
  private logStoreValue?: LogSearchStore;
  private metricsViewValue?: MetricsView;
  private dbValue?: Promise<Database>;

  constructor(readonly config: LogFlowConfig) {
    mkdirSync(config.dataDir, { recursive: true });
  }

  get transport(): Transport {
    this.transportValue ??=
      this.config.mode === 'kafka'
        ? new KafkaTransport({ brokers: this.config.kafkaBrokers })
        : new MemoryTransport({ defaultPartitions: this.config.partitions });
    return this.transportValue;
  }

  get serdes(): PipelineSerdes {
    this.serdesValue ??= pipelineSerdes(this.config);
    return this.serdesValue;
  }

  get logStore(): LogSearchStore {
    this.logStoreValue ??= createLogSearchStore(this.config);
    return this.logStoreValue;
  }

  get metricsView(): MetricsView {
    this.metricsViewValue ??= createMetricsView(this.config);
    return this.metricsViewValue;
  }

  db(): Promise<Database> {
    this.dbValue ??= openDatabase(this.config);
    return this.dbValue;
  }

  /** Closes whatever was opened, in reverse order of dependency. Idempotent. */
  async close(): Promise<void> {
    const db = this.dbValue;
    this.dbValue = undefined;
    await Promise.allSettled([
      this.logStoreValue?.close(),
      this.metricsViewValue?.close(),
      db?.then((d) => d.close()),
    ]);
    this.logStoreValue = undefined;
    this.metricsViewValue = undefined;
    await this.transportValue?.close();
    this.transportValue = undefined;
  }
}
