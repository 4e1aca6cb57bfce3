/**
 * The embedded mode's indexing sink: consumes `logs-parsed` and writes each batch into a
 * LogSearchStore (SQLite FTS5), committing the batch's offsets only after the store has it.
 * The distributed mode uses the Elasticsearch sink (connectors/elasticsearch) instead, which adds
 * bulk sizing, per-item retries and a dead-letter topic that a local SQLite file does not need.
 *
 * Lifecycle: `start()` joins the group and begins consuming; `stop()` leaves it (idempotent).
 * A batch the store rejects is retried with backoff (nothing is skipped or lost); an undecodable
 * record is logged and counted, then skipped — it is already in the parse stage's dead-letter path.
 */
import type { Registry } from 'prom-client';
import { describeError } from '../../common/errors.ts';
import { createLogger } from '../../common/logger.ts';
import type { LogSearchStore, ParsedLog } from '../../storage/logs/types.ts';
import type { Serde } from '../../topology/serde.ts';
import type { Batch, Consumer, Transport } from '../../topology/transport/transport.ts';
import { sinkMetrics } from '../elasticsearch/sink-metrics.ts';

export interface SearchStoreSinkOptions {
  transport: Transport;
  store: LogSearchStore;
  serde: Serde<ParsedLog>;
  topic: string;
  groupId?: string;
  /** Where `logflow_sink_*` metrics go (label sink="search-store"); default prom-client's registry. */
  registry?: Registry;
  /** Called with every batch once the store acknowledged it (e.g. the live tail). */
  onIndexed?: (logs: ParsedLog[]) => void;
}

export interface SearchStoreSinkStats {
  indexed: number;
  undecodable: number;
  storeErrors: number;
}

export interface SearchStoreSink {
  start(): Promise<void>;
  stop(): Promise<void>;
  stats(): SearchStoreSinkStats;
}

export function createSearchStoreSink(options: SearchStoreSinkOptions): SearchStoreSink {
  const log = createLogger('search-store-sink', { topic: options.topic });
  const stats: SearchStoreSinkStats = { indexed: 0, undecodable: 0, storeErrors: 0 };
  const metrics = sinkMetrics(options.registry);
  const sink = 'search-store';
  let consumer: Consumer | undefined;
  let stopped = false;

  async function decode(batch: Batch): Promise<ParsedLog[]> {
    const logs: ParsedLog[] = [];
    for (const message of batch.messages) {
      try {
        const value = await options.serde.deserialize(batch.topic, message.value);
        if (value) logs.push(value);
      } catch (err) {
        stats.undecodable++;
        metrics.records.inc({ sink, result: 'skipped' });
        log.warn(
          { partition: batch.partition, offset: message.offset, err: describeError(err) },
          'skipping undecodable log',
        );
      }
    }
    return logs;
  }

  async function indexWithRetry(logs: ParsedLog[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const started = performance.now();
      try {
        await options.store.index(logs);
        metrics.bulkDuration.observe({ sink, outcome: 'ok' }, (performance.now() - started) / 1000);
        return;
      } catch (err) {
        stats.storeErrors++;
        metrics.bulkDuration.observe({ sink, outcome: 'failed' }, (performance.now() - started) / 1000);
        if (stopped) throw err;
        const delay = Math.min(10_000, 100 * 2 ** attempt);
        log.warn({ err: describeError(err), delay }, 'search store rejected a batch; retrying');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  return {
    async start() {
      consumer = options.transport.consumer({ groupId: options.groupId ?? 'logflow-indexer' });
      await consumer.connect();
      await consumer.subscribe([options.topic]);
      await consumer.run({
        eachBatch: async (batch) => {
          if (batch.messages.length === 0) return;
          const logs = await decode(batch);
          if (logs.length > 0) await indexWithRetry(logs);
          stats.indexed += logs.length;
          metrics.records.inc({ sink, result: 'written' }, logs.length);
          const last = batch.messages[batch.messages.length - 1];
          await consumer!.commit([
            { topic: batch.topic, partition: batch.partition, offset: last.offset + 1 },
          ]);
          if (logs.length > 0) options.onIndexed?.(logs);
        },
      });
    },
    async stop() {
      stopped = true;
      await consumer?.disconnect();
    },
    stats: () => ({ ...stats }),
  };
}
