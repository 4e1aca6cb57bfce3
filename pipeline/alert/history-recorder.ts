/**
 * Records alert history (`triggered_alerts`) from the `alerts` topic: a sink connector with its
 * own consumer group that calls the AlertHistorySink for every event and commits the batch only
 * after the sink acknowledged it. Kept out of the alert processor because processors run
 * synchronously and a database write must never be lost to a crash between "emitted" and "recorded".
 *
 * Lifecycle: `start()` consumes until `stop()` (idempotent).
 */
import { describeError } from '../../common/errors.ts';
import { createLogger } from '../../common/logger.ts';
import type { TriggeredAlertsRepository } from '../../storage/db/types.ts';
import type { Serde } from '../../topology/serde.ts';
import type { Batch, Consumer, Transport } from '../../topology/transport/transport.ts';
import type { AlertEvent, AlertHistorySink } from './types.ts';

export interface AlertHistoryRecorderOptions {
  transport: Transport;
  serde: Serde<AlertEvent>;
  sink: AlertHistorySink;
  topic: string;
  groupId?: string;
}

export class AlertHistoryRecorder {
  private consumer: Consumer | null = null;
  private stopped = false;
  private readonly log = createLogger('alert-history');

  constructor(private readonly options: AlertHistoryRecorderOptions) {}

  async start(): Promise<void> {
    const consumer = this.options.transport.consumer({
      groupId: this.options.groupId ?? 'logflow-alert-history',
      fromBeginning: true,
    });
    this.consumer = consumer;
    await consumer.connect();
    await consumer.subscribe([this.options.topic]);
    await consumer.run({ eachBatch: (batch) => this.onBatch(batch) });
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.consumer?.disconnect();
  }

  private async onBatch(batch: Batch): Promise<void> {
    for (const message of batch.messages) {
      let event: AlertEvent;
      try {
        event = await this.options.serde.deserialize(batch.topic, message.value);
      } catch (err) {
        this.log.error(
          { offset: message.offset, err: describeError(err) },
          'undecodable alert event skipped',
        );
        continue;
      }
      // A throw here fails the batch: the transport redelivers it (the sink is idempotent).
      if (event.state === 'FIRING') await this.options.sink.recordFiring(event);
      else await this.options.sink.recordResolved(event);
    }
    const last = batch.messages[batch.messages.length - 1];
    await this.consumer?.commit([
      { topic: batch.topic, partition: batch.partition, offset: last.offset + 1 },
    ]);
  }
}

/** Adapts the database's triggered_alerts repository (storage/db) to the sink the stage needs. */
export function triggeredAlertsSink(
  repo: Pick<TriggeredAlertsRepository, 'recordFiring' | 'recordResolved'>,
): AlertHistorySink {
  return {
    async recordFiring(evt) {
      await repo.recordFiring({
        rule_id: evt.rule_id,
        rule_name: evt.rule_name,
        fingerprint: evt.fingerprint,
        severity: evt.severity as 'info' | 'warning' | 'critical',
        service: evt.service,
        value: evt.value,
        threshold: evt.threshold,
        labels: evt.silenced ? { ...evt.labels, silenced: 'true' } : evt.labels,
        started_at: new Date(evt.started_at).toISOString(),
      });
    },
    async recordResolved(evt) {
      await repo.recordResolved(
        evt.fingerprint,
        new Date(evt.resolved_at ?? evt.emitted_at).toISOString(),
        evt.value,
      );
    },
  };
}
