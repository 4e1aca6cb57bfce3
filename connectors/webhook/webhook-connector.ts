/**
 * The webhook sink connector: consumes `alerts` (own consumer group) and delivers each event to
 * its receivers through the dispatcher. Deliveries run concurrently and may take long (retries up
 * to the give-up time), so a batch only enqueues them; each partition's offset is committed once
 * every event up to it is done (all receivers succeeded or given up). A partition with too many
 * events in flight is paused until they drain.
 *
 * Lifecycle: `start()` connects and begins consuming; `stop()` cancels pending retries (their
 * events stay uncommitted and are redelivered on the next start, where the ledger skips receivers
 * that already have them), disconnects and closes the ledger. `stop()` is idempotent.
 */

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import type { LogFlowConfig } from '../../common/config.ts';
import { describeError, LogFlowError } from '../../common/errors.ts';
import { createLogger } from '../../common/logger.ts';
import type { AlertEvent, AlertTargetRef } from '../../pipeline/alert/types.ts';
import type { Serde } from '../../topology/serde.ts';
import type { Batch, Consumer, TopicPartition, Transport } from '../../topology/transport/transport.ts';
import { type DeliveryLedger, SqliteDeliveryLedger } from './delivery-ledger.ts';
import { type GiveUpReport, type RetryPolicy, WebhookDispatcher } from './dispatcher.ts';
import { OffsetTracker } from './offset-tracker.ts';
import { TargetGuard } from './ssrf-guard.ts';

export interface WebhookConnectorOptions {
  transport: Transport;
  /** Value serde of the alerts topic (Avro `alerts` schema in the distributed mode). */
  serde: Serde<AlertEvent>;
  /** HMAC secret (config.webhookSecret). Required. */
  secret: string;
  topic?: string;
  groupId?: string;
  /** IPs/CIDRs allowed although private (config.webhookAllowList). */
  allowList?: readonly string[];
  /**
   * Where delivery progress is kept. Default: SQLite file `<dataDir>/webhook-deliveries.sqlite`
   * (one process). Processes sharing a consumer group must share it: `SqlDeliveryLedger` on the
   * shared PostgreSQL database.
   */
  ledger?: DeliveryLedger;
  dataDir?: string;
  retry?: Partial<RetryPolicy>;
  defaultTargets?: AlertTargetRef[];
  /** Pause a partition above this many events in flight. Default 1000. */
  maxInFlightPerPartition?: number;
  onGiveUp?(report: GiveUpReport): void;
  /** Where `logflow_webhook_*` metrics go (the app's registry). Default prom-client's `register`. */
  registry?: Registry;
}

export interface WebhookConnector {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Events consumed but not yet committed. */
  inFlight(): number;
}

export function createWebhookConnector(
  config: LogFlowConfig,
  options: Omit<WebhookConnectorOptions, 'secret'> & { secret?: string },
): WebhookConnector {
  const secret = options.secret ?? config.webhookSecret;
  if (!secret)
    throw new LogFlowError(
      'LF_ERR_CONFIG_INVALID',
      'Webhooks need a signing secret (LOGFLOW_WEBHOOK_SECRET)',
    );
  return new KafkaWebhookConnector({
    topic: config.topics.alerts,
    allowList: config.webhookAllowList,
    dataDir: config.dataDir,
    ...options,
    secret,
  });
}

class KafkaWebhookConnector implements WebhookConnector {
  private readonly log = createLogger('webhook-connector');
  private readonly tracker = new OffsetTracker();
  private readonly dispatcher: WebhookDispatcher;
  private readonly ledger: DeliveryLedger;
  private readonly topic: string;
  private readonly maxInFlight: number;
  private consumer: Consumer | null = null;
  private readonly paused = new Set<string>();
  private commitChain: Promise<void> = Promise.resolve();
  private stopped = false;

  constructor(private readonly options: WebhookConnectorOptions) {
    this.topic = options.topic ?? 'alerts';
    this.maxInFlight = options.maxInFlightPerPartition ?? 1000;
    if (options.ledger) this.ledger = options.ledger;
    else {
      const dir = options.dataDir ?? '.logflow/data';
      mkdirSync(dir, { recursive: true });
      this.ledger = new SqliteDeliveryLedger(join(dir, 'webhook-deliveries.sqlite'));
    }
    this.dispatcher = new WebhookDispatcher({
      secret: options.secret,
      guard: new TargetGuard(options.allowList ?? []),
      ledger: this.ledger,
      retry: options.retry,
      defaultTargets: options.defaultTargets,
      onGiveUp: options.onGiveUp,
      registry: options.registry,
    });
  }

  async start(): Promise<void> {
    await this.ledger.prune(Date.now() - 7 * 24 * 3_600_000);
    const consumer = this.options.transport.consumer({
      groupId: this.options.groupId ?? 'logflow-webhooks',
      fromBeginning: true,
    });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe([this.topic]);
    await consumer.run({
      eachBatch: (batch) => this.onBatch(batch),
      onRevoked: async (partitions: TopicPartition[]) => {
        for (const tp of partitions) this.tracker.drop(tp.topic, tp.partition);
      },
    });
  }

  inFlight(): number {
    return this.tracker.pending();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.dispatcher.stop();
    await this.commitChain.catch(() => {});
    await this.consumer?.disconnect();
    await this.ledger.close();
  }

  private async onBatch(batch: Batch): Promise<void> {
    for (const message of batch.messages) {
      if (this.stopped) return;
      this.tracker.add(batch.topic, batch.partition, message.offset);
      let event: AlertEvent | null = null;
      try {
        event = await this.options.serde.deserialize(batch.topic, message.value);
      } catch (err) {
        // An undecodable event can never be delivered: skip it rather than block the partition.
        this.log.error(
          { offset: message.offset, partition: batch.partition, err: describeError(err) },
          'undecodable alert event skipped',
        );
      }
      const delivery = event ? this.dispatcher.dispatch(event) : Promise.resolve(true);
      void delivery.then((done) => {
        if (done) this.complete(batch.topic, batch.partition, message.offset);
      });
    }
    const key = `${batch.topic}:${batch.partition}`;
    if (this.tracker.pending(batch.topic, batch.partition) >= this.maxInFlight && !this.paused.has(key)) {
      this.paused.add(key);
      this.consumer?.pause([{ topic: batch.topic, partition: batch.partition }]);
    }
  }

  private complete(topic: string, partition: number, offset: number): void {
    const next = this.tracker.done(topic, partition, offset);
    const key = `${topic}:${partition}`;
    if (this.paused.has(key) && this.tracker.pending(topic, partition) < this.maxInFlight / 2) {
      this.paused.delete(key);
      this.consumer?.resume([{ topic, partition }]);
    }
    if (next === null || this.stopped) return;
    this.commitChain = this.commitChain
      .then(() => this.consumer?.commit([{ topic, partition, offset: next }]))
      .catch((err) => {
        // Lost after a rebalance: the new owner redelivers, and the ledger skips delivered receivers.
        this.log.warn(
          { topic, partition, offset: next, err: describeError(err) },
          'webhook offset commit failed',
        );
      });
  }
}
