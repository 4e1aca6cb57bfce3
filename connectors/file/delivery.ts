/**
 * The shipper's send side: a bounded queue of records, drained one batch at a time through a
 * transport `Producer`. One batch in flight keeps each file's records in order even across
 * retries (a failed batch is retried as it was, with exponential backoff and jitter, before
 * anything after it is sent). `onAck` runs only after the producer acknowledged a batch — that is
 * what lets the checkpoint move.
 */
import type { Logger } from '../../common/logger.ts';
import type { RawLog } from '../../pipeline/parse/raw-log.ts';
import type { Serde } from '../../topology/serde.ts';
import type { OutgoingMessage, Producer } from '../../topology/transport/transport.ts';

export interface QueuedRecord {
  fileId: string;
  /** Byte offset just past the record: the checkpoint offset once it is acknowledged. */
  end: number;
  key: Buffer;
  value: RawLog;
  bytes: number;
}

export interface RetryPolicy {
  initialMs: number;
  maxMs: number;
}

export interface DeliveryOptions {
  producer: Producer;
  serde: Serde<RawLog>;
  topic: string;
  batchMaxRecords: number;
  batchMaxBytes: number;
  retry: RetryPolicy;
  onAck(records: QueuedRecord[], at: number): void;
  onSendError?(err: unknown): void;
  logger: Logger;
}

export interface DeliveryStats {
  acked: number;
  batches: number;
  sendFailures: number;
  lastAckAt: number | null;
  lastError: string | null;
}

export class Delivery {
  private queue: QueuedRecord[] = [];
  private head = 0;
  private queuedBytes = 0;
  private inFlight: QueuedRecord[] = [];
  private inFlightBytes = 0;
  private wakeIdle: (() => void) | undefined;
  private wakeBackoff: (() => void) | undefined;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private idleWaiters: (() => void)[] = [];
  readonly stats: DeliveryStats = { acked: 0, batches: 0, sendFailures: 0, lastAckAt: null, lastError: null };

  constructor(private readonly options: DeliveryOptions) {}

  /** Records waiting or in flight: what backpressure is measured against. */
  get bufferedRecords(): number {
    return this.queue.length - this.head + this.inFlight.length;
  }

  get bufferedBytes(): number {
    return this.queuedBytes + this.inFlightBytes;
  }

  push(record: QueuedRecord): void {
    this.queue.push(record);
    this.queuedBytes += record.bytes;
    this.wakeIdle?.();
  }

  start(): void {
    this.loop ??= this.run();
  }

  /** Resolves when nothing is queued or in flight (or after `timeoutMs`; returns whether drained). */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.bufferedRecords === 0) return true;
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(this.bufferedRecords === 0), timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve(this.bufferedRecords === 0);
      });
    });
  }

  /** Stops sending (an unacknowledged batch stays unacknowledged: a restart re-sends it). Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wakeIdle?.();
    this.wakeBackoff?.();
    await this.loop;
  }

  private takeBatch(): QueuedRecord[] {
    const batch: QueuedRecord[] = [];
    let bytes = 0;
    while (this.head < this.queue.length && batch.length < this.options.batchMaxRecords) {
      const next = this.queue[this.head];
      if (batch.length > 0 && bytes + next.bytes > this.options.batchMaxBytes) break;
      batch.push(next);
      bytes += next.bytes;
      this.head++;
    }
    this.queuedBytes -= bytes;
    // Compact now and then instead of shift()ing every record.
    if (this.head > 4096 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.inFlight = batch;
    this.inFlightBytes = bytes;
    return batch;
  }

  /** Serialises a batch; serdes answering synchronously (the usual case) cost no promise per record. */
  private async serializeBatch(batch: QueuedRecord[]): Promise<OutgoingMessage[]> {
    const { serde, topic } = this.options;
    const messages: OutgoingMessage[] = new Array(batch.length);
    const pending: Promise<void>[] = [];
    for (let i = 0; i < batch.length; i++) {
      const r = batch[i];
      const value = serde.serialize(topic, r.value);
      const message: OutgoingMessage = {
        topic,
        key: r.key,
        value: null,
        timestamp: r.value.metadata.shipper_timestamp,
      };
      messages[i] = message;
      if (value instanceof Promise) {
        pending.push(
          value.then((v) => {
            message.value = v;
          }),
        );
      } else message.value = value;
    }
    if (pending.length > 0) await Promise.all(pending);
    return messages;
  }

  /** Sleeps `ms`; `stop()` always cuts it short, a new record only when `idle`. */
  private async sleep(ms: number, idle: boolean): Promise<void> {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      const wake = () => {
        clearTimeout(timer);
        resolve();
      };
      if (idle) this.wakeIdle = wake;
      else this.wakeBackoff = wake;
    });
    this.wakeIdle = undefined;
    this.wakeBackoff = undefined;
  }

  private async run(): Promise<void> {
    const { producer } = this.options;
    while (!this.stopped) {
      if (this.head >= this.queue.length) {
        for (const w of this.idleWaiters.splice(0)) w();
        await this.sleep(1000, true);
        continue;
      }
      const batch = this.takeBatch();
      let messages: OutgoingMessage[] | undefined;
      let delay = this.options.retry.initialMs;
      let sent = false;
      let failures = 0;
      while (!this.stopped) {
        try {
          messages ??= await this.serializeBatch(batch);
          await producer.send(messages);
          sent = true;
          break;
        } catch (err) {
          this.stats.sendFailures++;
          this.options.onSendError?.(err);
          this.stats.lastError = err instanceof Error ? err.message : String(err);
          // One warning per outage (and every 20th retry), not one per attempt.
          const attempt = ++failures;
          if (attempt === 1 || attempt % 20 === 0) {
            this.options.logger.warn(
              { err, records: batch.length, attempt, retryInMs: delay },
              'send failed, retrying',
            );
          }
          await this.sleep(delay * (0.8 + Math.random() * 0.4), false);
          delay = Math.min(delay * 2, this.options.retry.maxMs);
        }
      }
      if (!sent) break;
      const at = Date.now();
      this.inFlight = [];
      this.inFlightBytes = 0;
      this.stats.acked += batch.length;
      this.stats.batches++;
      this.stats.lastAckAt = at;
      this.options.onAck(batch, at);
    }
    for (const w of this.idleWaiters.splice(0)) w();
  }
}
