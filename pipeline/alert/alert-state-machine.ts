/**
 * The life of one alert (one rule × one service), as a pure function of its previous state, the
 * rule, the measured value and the time:
 *
 *   inactive ──condition holds──► pending ──held for `for_seconds`──► firing ──► (RESOLVED) inactive
 *        ▲                           │                                   │
 *        └─────condition gone────────┘      recovered (value at or below recovery_threshold, or
 *                                           above it for absence) for `keep_firing_seconds`
 *
 * FIRING is emitted once when entering `firing`, RESOLVED once when leaving it. Between the
 * threshold and the recovery threshold a firing alert stays firing (hysteresis), which is what
 * suppresses flapping. A silence never changes the state; it marks the notifications.
 */
import type { AlertRule } from '../../storage/db/types.ts';

export type AlertPhase = 'inactive' | 'pending' | 'firing';

/** Per-fingerprint state kept in the alert stage's changelog-backed store. */
export interface AlertMachineState {
  fingerprint: string;
  rule_id: number;
  service: string | null;
  phase: AlertPhase;
  /** When the alert was first evaluated: absence cannot hold before a whole window has passed. */
  armed_at: number;
  pending_since: number | null;
  started_at: number | null;
  /** Last evaluation at which a firing alert had not recovered (keep_firing counts from here). */
  last_active_at: number | null;
  /** Whether the FIRING notification was silenced (its RESOLVED is then silenced too). */
  silenced: boolean;
  /** `updated_at` of the rule at the last evaluation, to tell rule edits from value changes. */
  rule_version: string;
  value: number;
  /** What the rule looked like while firing, so a RESOLVED after the rule is deleted still has it. */
  rule?: RuleSnapshot | null;
}

/** The rule fields an alert event carries. */
export type RuleSnapshot = Pick<
  AlertRule,
  'name' | 'threshold' | 'window_seconds' | 'labels' | 'severity' | 'condition' | 'targets'
>;

export function snapshotOf(rule: AlertRule): RuleSnapshot {
  return {
    name: rule.name,
    threshold: rule.threshold,
    window_seconds: rule.window_seconds,
    labels: { ...rule.labels },
    severity: rule.severity,
    condition: rule.condition,
    targets: rule.targets.map((t) => ({ ...t })),
  };
}

export type Transition = { kind: 'fire'; silenced: boolean } | { kind: 'resolve'; silenced: boolean };

export interface StepResult {
  state: AlertMachineState;
  transition: Transition | null;
}

export function initialState(
  fingerprint: string,
  rule: Pick<AlertRule, 'id' | 'updated_at'>,
  service: string | null,
  now: number,
): AlertMachineState {
  return {
    fingerprint,
    rule_id: rule.id,
    service,
    phase: 'inactive',
    armed_at: now,
    pending_since: null,
    started_at: null,
    last_active_at: null,
    silenced: false,
    rule_version: rule.updated_at,
    value: 0,
  };
}

type RuleShape = Pick<
  AlertRule,
  | 'condition'
  | 'threshold'
  | 'recovery_threshold'
  | 'window_seconds'
  | 'for_seconds'
  | 'keep_firing_seconds'
  | 'updated_at'
>;

/** Whether the condition holds (the alert should be pending or firing). */
export function conditionHolds(
  rule: RuleShape,
  value: number,
  state: AlertMachineState,
  now: number,
): boolean {
  if (rule.condition === 'absence') {
    return value <= rule.threshold && now - state.armed_at >= rule.window_seconds * 1000;
  }
  return value > rule.threshold;
}

/** Whether a firing alert's value is back on the good side of the recovery threshold. */
export function recovered(rule: RuleShape, value: number): boolean {
  const recovery = rule.recovery_threshold ?? rule.threshold;
  return rule.condition === 'absence' ? value > recovery : value <= recovery;
}

/** One evaluation. `silencedNow` says whether a matching silence is active at `now`. */
export function step(
  rule: RuleShape,
  prev: AlertMachineState,
  value: number,
  now: number,
  silencedNow: boolean,
): StepResult {
  const state: AlertMachineState = { ...prev, value, rule_version: rule.updated_at };
  if (state.phase === 'firing') {
    if (!recovered(rule, value)) {
      state.last_active_at = now;
      return { state, transition: null };
    }
    if (now - (state.last_active_at ?? now) < rule.keep_firing_seconds * 1000)
      return { state, transition: null };
    const silenced = prev.silenced || silencedNow;
    return { state: resetToInactive(state), transition: { kind: 'resolve', silenced } };
  }
  if (!conditionHolds(rule, value, state, now)) {
    return { state: { ...state, phase: 'inactive', pending_since: null }, transition: null };
  }
  const pendingSince = state.phase === 'pending' ? (state.pending_since ?? now) : now;
  if (now - pendingSince < rule.for_seconds * 1000) {
    return { state: { ...state, phase: 'pending', pending_since: pendingSince }, transition: null };
  }
  return {
    state: {
      ...state,
      phase: 'firing',
      pending_since: null,
      started_at: now,
      last_active_at: now,
      silenced: silencedNow,
    },
    transition: { kind: 'fire', silenced: silencedNow },
  };
}

/** The rule is gone, disabled or no longer covers this service: a firing alert resolves now. */
export function retire(prev: AlertMachineState, silencedNow: boolean): Transition | null {
  if (prev.phase !== 'firing') return null;
  return { kind: 'resolve', silenced: prev.silenced || silencedNow };
}

function resetToInactive(state: AlertMachineState): AlertMachineState {
  // started_at stays until the RESOLVED event is built from it; the engine clears it after.
  return { ...state, phase: 'inactive', pending_since: null, last_active_at: null };
}
