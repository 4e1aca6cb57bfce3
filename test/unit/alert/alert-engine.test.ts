import { describe, expect, it } from 'vitest';
import { AlertEngine } from '../../../pipeline/alert/alert-engine.ts';
import { alertFingerprint } from '../../../pipeline/alert/fingerprint.ts';
import type { AlertEvent } from '../../../pipeline/alert/types.ts';
import type { AlertRule, Silence } from '../../../storage/db/types.ts';
import { MIN, mapStore, rule, T0, window } from './fixtures.ts';

function setup(rules: AlertRule[], silences: Silence[] = []) {
  const store = mapStore();
  const engine = new AlertEngine(store);
  const events: AlertEvent[] = [];
  let current = rules;
  return {
    store,
    events,
    setRules(next: AlertRule[]) {
      current = next;
    },
    observe(w: ReturnType<typeof window>, now: number) {
      engine.observe(w);
      events.push(...engine.evaluate(current, silences, now, w.service));
    },
    tick(now: number) {
      events.push(...engine.evaluate(current, silences, now));
    },
    states: () => events.map((e) => e.state),
  };
}

describe('alert engine: count_above', () => {
  it('fires once when the count crosses the threshold and resolves once when it falls back', () => {
    const t = setup([rule()]);
    t.observe(window('payment-service', T0, { ERROR: 5 }), T0 + 10_000);
    expect(t.events).toHaveLength(0);
    t.observe(window('payment-service', T0, { ERROR: 11 }), T0 + 20_000);
    t.observe(window('payment-service', T0, { ERROR: 30 }), T0 + 30_000);
    t.tick(T0 + 40_000);
    expect(t.states()).toEqual(['FIRING']);
    const firing = t.events[0];
    expect(firing).toMatchObject({
      rule_id: 1,
      service: 'payment-service',
      value: 11,
      threshold: 10,
      started_at: T0 + 20_000,
      resolved_at: null,
      fingerprint: alertFingerprint(1, 'payment-service'),
      reason: 'threshold',
      silenced: false,
      labels: { team: 'payments' },
      targets: [{ url: 'http://127.0.0.1:9/hook', format: 'json' }],
    });
    // The minute window still overlaps (now - 60 s, now] until T0 + 2 min.
    t.tick(T0 + MIN + 59_000);
    expect(t.states()).toEqual(['FIRING']);
    t.tick(T0 + 2 * MIN);
    expect(t.states()).toEqual(['FIRING', 'RESOLVED']);
    expect(t.events[1]).toMatchObject({
      started_at: T0 + 20_000,
      resolved_at: T0 + 2 * MIN,
      value: 0,
      reason: 'recovered',
    });
    t.tick(T0 + 3 * MIN);
    expect(t.states()).toEqual(['FIRING', 'RESOLVED']);
  });

  it('counts only the rule levels (all levels when empty)', () => {
    const onlyErrors = setup([rule({ threshold: 3 })]);
    onlyErrors.observe(window('payment-service', T0, { INFO: 100, ERROR: 3 }), T0 + 1000);
    expect(onlyErrors.events).toHaveLength(0);
    const all = setup([rule({ threshold: 3, levels: [] })]);
    all.observe(window('payment-service', T0, { INFO: 100, ERROR: 3 }), T0 + 1000);
    expect(all.states()).toEqual(['FIRING']);
  });

  it('waits for_seconds in pending before firing, and a short blip never fires', () => {
    const t = setup([rule({ for_seconds: 30 })]);
    t.observe(window('payment-service', T0, { ERROR: 20 }), T0 + 1000);
    t.tick(T0 + 20_000);
    expect(t.events).toHaveLength(0);
    expect(t.store.map.get(`a:${alertFingerprint(1, 'payment-service')}`)).toMatchObject({
      phase: 'pending',
      pending_since: T0 + 1000,
    });
    t.tick(T0 + 31_000);
    expect(t.states()).toEqual(['FIRING']);
    expect(t.events[0].started_at).toBe(T0 + 31_000);

    const blip = setup([rule({ for_seconds: 90 })]);
    blip.observe(window('payment-service', T0, { ERROR: 20 }), T0 + 1000);
    blip.tick(T0 + 60_000);
    blip.tick(T0 + 2 * MIN); // the window left the range: back to inactive before 90 s held
    blip.tick(T0 + 4 * MIN);
    expect(blip.events).toHaveLength(0);
  });

  it('suppresses flapping with a recovery threshold (hysteresis)', () => {
    // window_seconds 1: the value is the current minute only, so it swings with every window
    const t = setup([rule({ threshold: 10, recovery_threshold: 4, window_seconds: 1 })]);
    const values = [11, 8, 12, 6, 11, 5, 12];
    values.forEach((v, i) => {
      t.observe(window('payment-service', T0 + i * MIN, { ERROR: v }), T0 + i * MIN + 30_000);
      t.tick(T0 + i * MIN + 59_000);
    });
    expect(t.states()).toEqual(['FIRING']);
    t.observe(window('payment-service', T0 + 7 * MIN, { ERROR: 4 }), T0 + 7 * MIN + 1000);
    expect(t.states()).toEqual(['FIRING', 'RESOLVED']);
  });

  it('without hysteresis the same values flap', () => {
    const t = setup([rule({ threshold: 10, window_seconds: 1 })]);
    for (const [i, v] of [11, 8, 12].entries()) {
      t.observe(window('payment-service', T0 + i * MIN, { ERROR: v }), T0 + i * MIN + 30_000);
    }
    expect(t.states()).toEqual(['FIRING', 'RESOLVED', 'FIRING']);
  });

  it('keeps firing for keep_firing_seconds after recovering', () => {
    const t = setup([rule({ keep_firing_seconds: 120 })]);
    t.observe(window('payment-service', T0, { ERROR: 20 }), T0 + 1000);
    t.tick(T0 + 2 * MIN - 1); // last moment the window is in range
    t.tick(T0 + 2 * MIN + 60_000); // recovered, 60 s after last active
    expect(t.states()).toEqual(['FIRING']);
    t.tick(T0 + 4 * MIN);
    expect(t.states()).toEqual(['FIRING', 'RESOLVED']);
  });

  it('evaluates a rule on all services per service, each with its own fingerprint', () => {
    const t = setup([rule({ service: null })]);
    t.observe(window('payment-service', T0, { ERROR: 20 }), T0 + 1000);
    t.observe(window('auth-service', T0, { ERROR: 20 }), T0 + 2000);
    t.observe(window('user-service', T0, { ERROR: 2 }), T0 + 3000);
    expect(t.events.map((e) => e.service).sort()).toEqual(['auth-service', 'payment-service']);
    expect(new Set(t.events.map((e) => e.fingerprint)).size).toBe(2);
  });

  it('keeps the highest version of a window (replays of older versions change nothing)', () => {
    const t = setup([rule()]);
    t.observe(window('payment-service', T0, { ERROR: 20 }), T0 + 1000);
    t.observe(window('payment-service', T0, { ERROR: 2 }), T0 + 2000); // stale replay
    t.tick(T0 + 3000);
    expect(t.states()).toEqual(['FIRING']);
  });
});

describe('alert engine: error_rate_above', () => {
  it('fires on the ratio of ERROR+FATAL to all logs', () => {
    const t = setup([rule({ condition: 'error_rate_above', threshold: 0.5, levels: [] })]);
    t.observe(window('payment-service', T0, { INFO: 6, ERROR: 4 }), T0 + 1000);
    expect(t.events).toHaveLength(0);
    t.observe(window('payment-service', T0, { INFO: 6, ERROR: 4, FATAL: 3 }), T0 + 2000);
    expect(t.states()).toEqual(['FIRING']);
    expect(t.events[0].value).toBeCloseTo(7 / 13);
  });
});

describe('alert engine: absence', () => {
  const absence = rule({ condition: 'absence', threshold: 0, levels: [], window_seconds: 120 });

  it('fires when a service sends nothing for the window, evaluated on ticks, and resolves on new logs', () => {
    const t = setup([absence]);
    t.observe(window('payment-service', T0, { INFO: 5 }), T0 + 1000);
    t.tick(T0 + 2 * MIN);
    t.tick(T0 + 3 * MIN - 1); // window [T0, T0+1m) still overlaps (now - 120 s, now]
    expect(t.events).toHaveLength(0);
    t.tick(T0 + 3 * MIN);
    expect(t.states()).toEqual(['FIRING']);
    expect(t.events[0]).toMatchObject({ condition: 'absence', value: 0, service: 'payment-service' });
    t.tick(T0 + 4 * MIN);
    expect(t.states()).toEqual(['FIRING']);
    t.observe(window('payment-service', T0 + 4 * MIN, { INFO: 1 }), T0 + 4 * MIN + 5000);
    expect(t.states()).toEqual(['FIRING', 'RESOLVED']);
  });

  it('fires for a named service that was never seen, but only after a whole window', () => {
    const t = setup([absence]);
    t.tick(T0);
    t.tick(T0 + 119_000);
    expect(t.events).toHaveLength(0);
    t.tick(T0 + 120_000);
    expect(t.states()).toEqual(['FIRING']);
  });
});

describe('alert engine: rule edits while firing', () => {
  it('re-evaluates with a changed threshold and resolves with reason rule_changed', () => {
    const t = setup([rule()]);
    t.observe(window('payment-service', T0, { ERROR: 20 }), T0 + 1000);
    expect(t.states()).toEqual(['FIRING']);
    t.setRules([rule({ threshold: 15, updated_at: '2026-11-27T12:00:05.000Z' })]);
    t.tick(T0 + 5000);
    expect(t.states()).toEqual(['FIRING']); // 20 > 15: still firing
    t.setRules([rule({ threshold: 50, updated_at: '2026-11-27T12:00:10.000Z' })]);
    t.tick(T0 + 10_000);
    expect(t.states()).toEqual(['FIRING', 'RESOLVED']);
    expect(t.events[1]).toMatchObject({ reason: 'rule_changed', threshold: 50 });
  });

  it('resolves when the rule is disabled, and when it is deleted (with the last known targets)', () => {
    const disabled = setup([rule()]);
    disabled.observe(window('payment-service', T0, { ERROR: 20 }), T0 + 1000);
    disabled.setRules([rule({ enabled: false })]);
    disabled.tick(T0 + 2000);
    expect(disabled.states()).toEqual(['FIRING', 'RESOLVED']);
    expect(disabled.events[1].reason).toBe('rule_disabled');
    disabled.tick(T0 + 3000);
    expect(disabled.states()).toEqual(['FIRING', 'RESOLVED']);

    const deleted = setup([rule()]);
    deleted.observe(window('payment-service', T0, { ERROR: 20 }), T0 + 1000);
    deleted.setRules([]);
    deleted.tick(T0 + 2000);
    expect(deleted.states()).toEqual(['FIRING', 'RESOLVED']);
    expect(deleted.events[1]).toMatchObject({
      reason: 'rule_deleted',
      rule_name: 'payment errors',
      started_at: T0 + 1000,
      targets: [{ url: 'http://127.0.0.1:9/hook', format: 'json' }],
    });
    expect([...deleted.store.map.keys()].filter((k) => k.startsWith('a:'))).toEqual([]);
  });

  it('resolves the old service when a rule moves to another service', () => {
    const t = setup([rule()]);
    t.observe(window('payment-service', T0, { ERROR: 20 }), T0 + 1000);
    t.setRules([rule({ service: 'auth-service', updated_at: 'x' })]);
    t.tick(T0 + 2000);
    expect(t.states()).toEqual(['FIRING', 'RESOLVED']);
    expect(t.events[1]).toMatchObject({ service: 'payment-service', reason: 'rule_changed' });
  });
});

describe('alert engine: silences', () => {
  const silence = (rule_id: number | null, service: string | null, from: number, to: number): Silence => ({
    id: 1,
    rule_id,
    service,
    starts_at: new Date(from).toISOString(),
    ends_at: new Date(to).toISOString(),
    comment: null,
    created_by: 'admin',
  });

  it('still changes state but marks FIRING and its RESOLVED silenced', () => {
    const t = setup([rule()], [silence(1, null, T0, T0 + 30_000)]);
    t.observe(window('payment-service', T0, { ERROR: 20 }), T0 + 1000);
    t.tick(T0 + 2 * MIN);
    expect(t.events.map((e) => [e.state, e.silenced])).toEqual([
      ['FIRING', true],
      ['RESOLVED', true], // the silence ended, but nobody heard the FIRING: its RESOLVED stays quiet
    ]);
  });

  it('a silence for another service does not match', () => {
    const t = setup([rule()], [silence(null, 'auth-service', T0, T0 + MIN)]);
    t.observe(window('payment-service', T0, { ERROR: 20 }), T0 + 1000);
    expect(t.events[0].silenced).toBe(false);
  });
});

describe('alert engine: store hygiene', () => {
  it('drops windows older than the longest rule window plus a margin', () => {
    const t = setup([rule()]);
    t.observe(window('payment-service', T0, { INFO: 1 }), T0 + 1000);
    t.observe(window('payment-service', T0 + 90 * MIN, { INFO: 1 }), T0 + 90 * MIN + 1000);
    t.tick(T0 + 90 * MIN + 2000);
    const entry = t.store.map.get('s:payment-service') as { windows: Record<string, unknown> };
    expect(Object.keys(entry.windows)).toEqual([String(T0 + 90 * MIN)]);
  });
});
