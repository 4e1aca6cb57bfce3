/**
 * The alert stage's public shapes: the `alerts` topic value (schemas/alerts.avsc, documented in
 * docs/alerts.md) and the narrow interfaces through which the stage reads rules and silences and
 * records history. The database layer (storage/db) satisfies them; the stage never imports it.
 */
import type { AlertRule, Silence } from '../../storage/db/types.ts';

export type AlertState = 'FIRING' | 'RESOLVED';

export type AlertReason = 'threshold' | 'recovered' | 'rule_changed' | 'rule_disabled' | 'rule_deleted';

export interface AlertTargetRef {
  url: string;
  /** `json` (signed LogFlow payload) or `slack`. */
  format: string;
}

/** One state change of one alert (the `alerts` Avro value). Times in epoch ms. */
export interface AlertEvent {
  rule_id: number;
  rule_name: string;
  state: AlertState;
  value: number;
  threshold: number;
  window_seconds: number;
  service: string | null;
  labels: Record<string, string>;
  severity: string;
  started_at: number;
  resolved_at: number | null;
  fingerprint: string;
  emitted_at: number;
  condition: string;
  reason: string;
  /** A matching silence was active: recorded in history, not sent to webhooks. */
  silenced: boolean;
  targets: AlertTargetRef[];
}

/** The id under which an event is deduplicated everywhere: one FIRING and one RESOLVED per start. */
export function alertEventId(evt: Pick<AlertEvent, 'fingerprint' | 'state' | 'started_at'>): string {
  return `${evt.fingerprint}:${evt.state}:${evt.started_at}`;
}

/**
 * Where the stage reads alert rules. `list()` returns every rule (disabled ones included, so a
 * firing alert of a rule that was disabled resolves). `watch` calls `onChange` after any rule was
 * created, changed or deleted (LISTEN/NOTIFY or polling) and returns a function that stops watching.
 */
export interface AlertRuleSource {
  list(): Promise<AlertRule[]>;
  watch(onChange: () => void): () => void;
}

/** Active and future silences; optional (no silences when absent). */
export interface SilenceSource {
  list(): Promise<Silence[]>;
  watch?(onChange: () => void): () => void;
}

/**
 * Records alert history (`triggered_alerts`). Both calls must be idempotent by
 * (fingerprint, started_at): a replay after a crash calls them again with the same event.
 */
export interface AlertHistorySink {
  recordFiring(evt: AlertEvent): Promise<void>;
  recordResolved(evt: AlertEvent): Promise<void>;
}
