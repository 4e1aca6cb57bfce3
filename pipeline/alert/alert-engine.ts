/**
 * Evaluates every rule for every service it covers, over the recent 1-minute windows the stage has
 * seen, and turns state-machine transitions into `AlertEvent`s. Pure apart from the store it is
 * given (the stage passes its changelog-backed KeyValueStore; tests pass a Map), so the whole
 * alert behaviour is unit-testable with virtual time.
 *
 * Store layout: `s:<service>` → ServiceWindows (the service's recent 1m windows), and
 * `a:<fingerprint>` → AlertMachineState.
 */
import type { AlertRule, Silence } from '../../storage/db/types.ts';
import type { MetricWindow } from '../../storage/metrics/types.ts';
import { MINUTE_MS } from '../../storage/metrics/windows.ts';
import {
  type AlertMachineState,
  initialState,
  type RuleSnapshot,
  retire,
  snapshotOf,
  step,
  type Transition,
} from './alert-state-machine.ts';
import { alertFingerprint } from './fingerprint.ts';
import { ruleValue, type WindowCounts } from './rule-value.ts';
import { isSilenced } from './silences.ts';
import type { AlertEvent, AlertReason } from './types.ts';

export interface ServiceWindows {
  service: string;
  /** 1m windows by window_start; only the highest version of each is kept. */
  windows: Record<string, WindowCounts & { version: number }>;
}

export type AlertStoreValue = ServiceWindows | AlertMachineState;

/** The subset of a KeyValueStore the engine needs. */
export interface AlertKeyValue {
  get(key: string): AlertStoreValue | undefined;
  put(key: string, value: AlertStoreValue): void;
  delete(key: string): void;
  entries(): Iterable<[string, AlertStoreValue]>;
}

/** Windows older than the longest rule window plus this margin are dropped from the store. */
const KEEP_MARGIN_MS = 2 * MINUTE_MS;
const MIN_KEEP_MS = 60 * MINUTE_MS;

export class AlertEngine {
  constructor(private readonly store: AlertKeyValue) {}

  /** Records a 1m window (1h rollups are ignored: rules are evaluated on minutes). */
  observe(window: MetricWindow): void {
    if ((window.resolution ?? '1m') !== '1m') return;
    const key = `s:${window.service}`;
    const current = (this.store.get(key) as ServiceWindows | undefined) ?? {
      service: window.service,
      windows: {},
    };
    const existing = current.windows[String(window.window_start)];
    if (existing && existing.version >= window.version) return;
    this.store.put(key, {
      service: window.service,
      windows: {
        ...current.windows,
        [String(window.window_start)]: {
          window_start: window.window_start,
          window_end: window.window_end,
          counts: window.counts,
          total: window.total,
          version: window.version,
        },
      },
    });
  }

  services(): string[] {
    const out: string[] = [];
    for (const [key, value] of this.store.entries()) {
      if (key.startsWith('s:')) out.push((value as ServiceWindows).service);
    }
    return out;
  }

  /**
   * Evaluates `rules` at `now`. With `onlyService`, evaluates just that service's alerts (used
   * when a window update arrives) and leaves orphaned alerts to the next full evaluation.
   */
  evaluate(
    rules: readonly AlertRule[],
    silences: readonly Silence[],
    now: number,
    onlyService?: string,
  ): AlertEvent[] {
    const events: AlertEvent[] = [];
    const known = this.services();
    const covered = new Set<string>();
    for (const rule of rules) {
      if (!rule.enabled) continue;
      const services = rule.service !== null ? [rule.service] : known;
      for (const service of services) {
        const fingerprint = alertFingerprint(rule.id, service);
        covered.add(fingerprint);
        if (onlyService !== undefined && service !== onlyService) continue;
        const key = `a:${fingerprint}`;
        const prev =
          (this.store.get(key) as AlertMachineState | undefined) ??
          initialState(fingerprint, rule, service, now);
        const value = ruleValue(rule, this.windowsOf(service), now);
        const silencedNow = isSilenced(silences, rule.id, service, now);
        const { state, transition } = step(rule, prev, value, now, silencedNow);
        if (transition) {
          const reason: AlertReason =
            transition.kind === 'fire'
              ? 'threshold'
              : prev.rule_version !== rule.updated_at
                ? 'rule_changed'
                : 'recovered';
          events.push(this.toEvent(snapshotOf(rule), prev, state, transition, reason, now));
        }
        const stored =
          state.phase === 'firing'
            ? { ...state, rule: snapshotOf(rule) }
            : { ...state, started_at: null, silenced: false, rule: null };
        this.store.put(key, stored);
      }
    }
    if (onlyService === undefined) {
      events.push(...this.retireOrphans(rules, silences, covered, now));
      this.prune(rules, now);
    }
    return events;
  }

  private windowsOf(service: string): WindowCounts[] {
    const entry = this.store.get(`s:${service}`) as ServiceWindows | undefined;
    return entry ? Object.values(entry.windows) : [];
  }

  /** Alerts whose rule was deleted, disabled or no longer covers their service: resolve and forget. */
  private retireOrphans(
    rules: readonly AlertRule[],
    silences: readonly Silence[],
    covered: Set<string>,
    now: number,
  ): AlertEvent[] {
    const events: AlertEvent[] = [];
    const byId = new Map(rules.map((r) => [r.id, r]));
    const orphans: [string, AlertMachineState][] = [];
    for (const [key, value] of this.store.entries()) {
      if (key.startsWith('a:') && !covered.has((value as AlertMachineState).fingerprint)) {
        orphans.push([key, value as AlertMachineState]);
      }
    }
    for (const [key, state] of orphans) {
      const rule = byId.get(state.rule_id);
      const transition = retire(state, isSilenced(silences, state.rule_id, state.service, now));
      if (transition) {
        const reason: AlertReason = !rule ? 'rule_deleted' : !rule.enabled ? 'rule_disabled' : 'rule_changed';
        const snapshot = rule ? snapshotOf(rule) : (state.rule ?? null);
        events.push(this.toEvent(snapshot, state, state, transition, reason, now));
      }
      this.store.delete(key);
    }
    return events;
  }

  private prune(rules: readonly AlertRule[], now: number): void {
    const longest = Math.max(0, ...rules.map((r) => r.window_seconds * 1000));
    const cutoff = now - Math.max(MIN_KEEP_MS, longest + KEEP_MARGIN_MS);
    const updates: [string, ServiceWindows][] = [];
    for (const [key, value] of this.store.entries()) {
      if (!key.startsWith('s:')) continue;
      const entry = value as ServiceWindows;
      const kept = Object.entries(entry.windows).filter(([, w]) => w.window_end > cutoff);
      if (kept.length !== Object.keys(entry.windows).length) {
        updates.push([key, { service: entry.service, windows: Object.fromEntries(kept) }]);
      }
    }
    // The service entry stays even when empty: absence rules need to know the service existed.
    for (const [key, value] of updates) this.store.put(key, value);
  }

  private toEvent(
    rule: RuleSnapshot | null,
    prev: AlertMachineState,
    next: AlertMachineState,
    transition: Transition,
    reason: AlertReason,
    now: number,
  ): AlertEvent {
    const firing = transition.kind === 'fire';
    return {
      rule_id: prev.rule_id,
      rule_name: rule?.name ?? `rule ${prev.rule_id}`,
      state: firing ? 'FIRING' : 'RESOLVED',
      value: next.value,
      threshold: rule?.threshold ?? 0,
      window_seconds: rule?.window_seconds ?? 0,
      service: prev.service,
      labels: { ...(rule?.labels ?? {}) },
      severity: rule?.severity ?? 'warning',
      started_at: firing ? now : (prev.started_at ?? now),
      resolved_at: firing ? null : now,
      fingerprint: prev.fingerprint,
      emitted_at: now,
      condition: rule?.condition ?? '',
      reason,
      silenced: transition.silenced,
      targets: (rule?.targets ?? []).map((t) => ({ url: t.url, format: t.format ?? 'json' })),
    };
  }
}
