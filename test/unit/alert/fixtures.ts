import type { AlertKeyValue, AlertStoreValue } from '../../../pipeline/alert/alert-engine.ts';
import type { AlertEvent } from '../../../pipeline/alert/types.ts';
import type { AlertRule } from '../../../storage/db/types.ts';
import type { MetricWindow } from '../../../storage/metrics/types.ts';

export const T0 = Date.UTC(2026, 10, 27, 12, 0, 0);
export const MIN = 60_000;

export function rule(overrides: Partial<AlertRule> = {}): AlertRule {
  return {
    id: 1,
    name: 'payment errors',
    description: null,
    service: 'payment-service',
    levels: ['ERROR'],
    condition: 'count_above',
    threshold: 10,
    recovery_threshold: null,
    window_seconds: 60,
    for_seconds: 0,
    keep_firing_seconds: 0,
    severity: 'critical',
    labels: { team: 'payments' },
    enabled: true,
    targets: [{ url: 'http://127.0.0.1:9/hook' }],
    created_at: '2026-11-27T00:00:00.000Z',
    updated_at: '2026-11-27T00:00:00.000Z',
    ...overrides,
  };
}

export function window(service: string, start: number, counts: Record<string, number>): MetricWindow {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  return {
    service,
    window_start: start,
    window_end: start + MIN,
    counts,
    total,
    error_rate: total ? ((counts.ERROR ?? 0) + (counts.FATAL ?? 0)) / total : 0,
    version: total,
    resolution: '1m',
  };
}

export function mapStore(): AlertKeyValue & { map: Map<string, AlertStoreValue> } {
  const map = new Map<string, AlertStoreValue>();
  return {
    map,
    get: (k) => map.get(k),
    put: (k, v) => {
      map.set(k, structuredClone(v));
    },
    delete: (k) => {
      map.delete(k);
    },
    entries: () => [...map.entries()],
  };
}

/** An alert event as the alert stage emits it (firing, no receivers unless given). */
export function alertEvent(overrides: Partial<AlertEvent> = {}): AlertEvent {
  return {
    rule_id: 7,
    rule_name: 'payment errors',
    state: 'FIRING',
    value: 42,
    threshold: 10,
    window_seconds: 60,
    service: 'payment-service',
    labels: { team: 'payments' },
    severity: 'critical',
    started_at: T0,
    resolved_at: null,
    fingerprint: 'abcdef0123456789',
    emitted_at: T0,
    condition: 'count_above',
    reason: 'threshold',
    silenced: false,
    targets: [],
    ...overrides,
  };
}
