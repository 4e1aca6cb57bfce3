/**
 * Delivers one alert event to all its receivers: signs, POSTs, retries each failing receiver with
 * exponential backoff (independently of the others), and resolves once every receiver has either
 * succeeded or been given up on. The ledger is written after every outcome, so a receiver that
 * succeeded is never sent the event again — not by a retry, not after a restart, and (with the
 * ledger in the shared database) not by another webhook process after a rebalance.
 *
 * Each attempt runs under a claim on (event, receiver) in the ledger, taken before the POST and
 * released once its outcome is recorded: two dispatchers sharing a ledger never POST the same
 * event to the same receiver at the same time; the one without the claim looks again later.
 * The lease outlives a POST (timeout × 2 + 10 s) so it lapses only for a crashed or stalled owner —
 * which may then have delivered without recording it: at-least-once per receiver, receivers dedupe
 * by the event id (`alert.id` in the payload, header `X-LogFlow-Event-Id`).
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Registry } from 'prom-client';
import { describeError, LogFlowError } from '../../common/errors.ts';
import { createLogger } from '../../common/logger.ts';
import { type AlertEvent, type AlertTargetRef, alertEventId } from '../../pipeline/alert/types.ts';
import type { DeliveryLedger, DeliveryRecord } from './delivery-ledger.ts';
import { postJson } from './http-post.ts';
import { jsonPayload, slackPayload } from './payload.ts';
import { SIGNATURE_HEADER, signWebhook, TIMESTAMP_HEADER } from './signature.ts';
import type { TargetGuard } from './ssrf-guard.ts';
import { type WebhookMetrics, webhookMetrics } from './webhook-metrics.ts';

export interface RetryPolicy {
  /** First retry delay. Default 1 s. */
  baseDelayMs: number;
  /** Cap of one delay. Default 60 s. */
  maxDelayMs: number;
  /** Give up on a receiver this long after its first attempt. Default 1 h. */
  giveUpAfterMs: number;
  /** Per-request timeout. Default 10 s. */
  timeoutMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  baseDelayMs: 1000,
  maxDelayMs: 60_000,
  giveUpAfterMs: 3_600_000,
  timeoutMs: 10_000,
};

/** Reported once per receiver given up on (the lead wires it to history / metrics). */
export interface GiveUpReport {
  event: AlertEvent;
  eventId: string;
  url: string;
  attempts: number;
  lastError: string;
  /** LF_ERR_WEBHOOK_DELIVERY (or LF_ERR_WEBHOOK_TARGET_FORBIDDEN for a refused target), for logs and history. */
  error: LogFlowError;
}

export interface DispatcherOptions {
  secret: string;
  guard: TargetGuard;
  ledger: DeliveryLedger;
  retry?: Partial<RetryPolicy>;
  /** Receivers of every alert, in addition to each rule's targets. */
  defaultTargets?: AlertTargetRef[];
  onGiveUp?(report: GiveUpReport): void;
  now?: () => number;
  /** Where `logflow_webhook_*` metrics go. Default prom-client's `register`. */
  registry?: Registry;
  /** This dispatcher's name in ledger claims. Default `<host>:<pid>:<random>`. */
  owner?: string;
  /** How long a claim holds without being released. Default timeout × 2 + 10 s. */
  claimLeaseMs?: number;
  /** How soon to look again at a receiver another owner holds the claim of. Default 1 s. */
  claimRetryMs?: number;
}

export function backoffDelay(
  attempt: number,
  policy: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>,
): number {
  return Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
}

export class WebhookDispatcher {
  private readonly retry: RetryPolicy;
  private readonly now: () => number;
  private readonly log = createLogger('webhook');
  private readonly metrics: WebhookMetrics;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly wakers = new Set<() => void>();
  private readonly owner: string;
  private readonly leaseMs: number;
  private readonly claimRetryMs: number;
  private stopped = false;

  constructor(private readonly options: DispatcherOptions) {
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.now = options.now ?? Date.now;
    this.metrics = webhookMetrics(options.registry);
    this.owner = options.owner ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.leaseMs = options.claimLeaseMs ?? this.retry.timeoutMs * 2 + 10_000;
    this.claimRetryMs = options.claimRetryMs ?? 1000;
  }

  /** Receivers of an event: its targets plus the defaults, each URL once. Silenced events have none. */
  targetsOf(evt: AlertEvent): AlertTargetRef[] {
    if (evt.silenced) return [];
    const seen = new Map<string, AlertTargetRef>();
    for (const t of [...evt.targets, ...(this.options.defaultTargets ?? [])])
      if (!seen.has(t.url)) seen.set(t.url, t);
    return [...seen.values()];
  }

  /**
   * Resolves when every receiver is done (succeeded or given up), or early with `false` when the
   * dispatcher is stopped (the event is then redelivered from the uncommitted offset later).
   */
  async dispatch(evt: AlertEvent): Promise<boolean> {
    const eventId = alertEventId(evt);
    const results = await Promise.all(this.targetsOf(evt).map((t) => this.deliver(evt, eventId, t)));
    return results.every(Boolean);
  }

  /** Cancels pending retries; in-flight dispatches resolve `false`. Idempotent. */
  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const wake of this.wakers) wake();
    this.wakers.clear();
  }

  private async deliver(evt: AlertEvent, eventId: string, target: AlertTargetRef): Promise<boolean> {
    const { ledger } = this.options;
    const url = target.url;
    let record: DeliveryRecord = {
      event_id: eventId,
      url,
      status: 'pending',
      attempts: 0,
      first_attempt_at: this.now(),
      updated_at: this.now(),
      last_error: null,
    };
    const body = JSON.stringify(target.format === 'slack' ? slackPayload(evt) : jsonPayload(evt, eventId));
    for (;;) {
      if (this.stopped) return false;
      let claimed = false;
      try {
        claimed = await ledger.claim(eventId, url, this.owner, this.leaseMs);
        // Read under the claim: a redelivered event may be done already, and another owner may
        // have finished it (or counted attempts) since this dispatcher last looked.
        if (claimed) record = (await ledger.get(eventId, url)) ?? record;
      } catch (err) {
        this.log.warn({ eventId, url, err: describeError(err) }, 'webhook ledger unavailable; retrying');
        if (claimed) await this.release(eventId, url);
        await this.sleep(this.claimRetryMs);
        continue;
      }
      if (!claimed) {
        // Another process is POSTing it right now (two owners of a partition during a rebalance):
        // look again later; the event stays uncommitted here until the ledger says it is done.
        await this.sleep(this.claimRetryMs);
        continue;
      }
      if (record.status !== 'pending') {
        // Succeeded or given up before (a redelivery, or another owner's work): nothing to send.
        await this.release(eventId, url);
        return true;
      }
      let delay: number | null;
      try {
        ({ record, delay } = await this.attempt(evt, eventId, target, body, record));
      } finally {
        await this.release(eventId, url);
      }
      if (delay === null) return true;
      await this.sleep(delay);
    }
  }

  /** One POST under the claim, its outcome recorded; `delay` is null once the receiver is done. */
  private async attempt(
    evt: AlertEvent,
    eventId: string,
    target: AlertTargetRef,
    body: string,
    before: DeliveryRecord,
  ): Promise<{ record: DeliveryRecord; delay: number | null }> {
    const timestamp = Math.floor(this.now() / 1000);
    const started = performance.now();
    const outcome = await postJson(
      target.url,
      body,
      {
        [SIGNATURE_HEADER]: signWebhook(this.options.secret, timestamp, body),
        [TIMESTAMP_HEADER]: String(timestamp),
        'X-LogFlow-Event-Id': eventId,
        'X-LogFlow-Attempt': String(before.attempts + 1),
        'user-agent': 'LogFlow-Webhook/1',
      },
      this.options.guard,
      this.retry.timeoutMs,
    );
    this.metrics.deliverySeconds.observe(
      { outcome: outcome.ok ? 'ok' : 'failed' },
      (performance.now() - started) / 1000,
    );
    const now = this.now();
    let record: DeliveryRecord = { ...before, attempts: before.attempts + 1, updated_at: now };
    if (outcome.ok) {
      record = { ...record, status: 'succeeded', last_error: null };
      await this.save(record);
      this.metrics.deliveries.inc({ result: 'delivered' });
      this.log.info({ eventId, url: target.url, attempts: record.attempts }, 'webhook delivered');
      return { record, delay: null };
    }
    const deadline = record.first_attempt_at + this.retry.giveUpAfterMs;
    if (!outcome.retriable || now >= deadline) {
      record = { ...record, status: 'gave_up', last_error: outcome.error };
      await this.save(record);
      this.log.warn(
        { eventId, url: target.url, attempts: record.attempts, error: outcome.error },
        'webhook given up',
      );
      const refused =
        outcome.error.includes('LF_ERR_WEBHOOK_TARGET_FORBIDDEN') || outcome.error.includes(' refused: ');
      this.metrics.deliveries.inc({ result: refused ? 'refused' : 'gave_up' });
      const code = refused ? 'LF_ERR_WEBHOOK_TARGET_FORBIDDEN' : 'LF_ERR_WEBHOOK_DELIVERY';
      const error = new LogFlowError(
        code,
        `Gave up delivering ${eventId} to ${target.url} after ${record.attempts} attempt(s): ${outcome.error}`,
        { details: { eventId, url: target.url, attempts: record.attempts } },
      );
      this.options.onGiveUp?.({
        event: evt,
        eventId,
        url: target.url,
        attempts: record.attempts,
        lastError: outcome.error,
        error,
      });
      return { record, delay: null };
    }
    record = { ...record, last_error: outcome.error };
    await this.save(record);
    this.metrics.deliveries.inc({ result: 'retried' });
    const delay = Math.min(backoffDelay(record.attempts, this.retry), Math.max(0, deadline - now));
    this.log.debug({ eventId, url: target.url, delay, error: outcome.error }, 'webhook retry scheduled');
    return { record, delay };
  }

  /**
   * Records an outcome. The POST already happened, so a ledger failure here is logged, not
   * retried: this dispatcher goes on from the outcome it knows; another process may send again.
   */
  private async save(record: DeliveryRecord): Promise<void> {
    try {
      await this.options.ledger.put(record);
    } catch (err) {
      this.log.warn(
        { eventId: record.event_id, url: record.url, err: describeError(err) },
        'webhook ledger write failed',
      );
    }
  }

  /** A failed release only delays other claimants until the lease expires. */
  private async release(eventId: string, url: string): Promise<void> {
    try {
      await this.options.ledger.release(eventId, url, this.owner);
    } catch (err) {
      this.log.warn({ eventId, url, err: describeError(err) }, 'webhook claim release failed');
    }
  }

  private sleep(ms: number): Promise<void> {
    // After stop() nothing would wake a new wait: return at once (the caller sees `stopped`).
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.timers.delete(timer);
        this.wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.timers.add(timer);
      this.wakers.add(wake);
    });
  }
}
