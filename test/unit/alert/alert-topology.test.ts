import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../common/config.ts';
import { type AlertStage, buildAlertTopology } from '../../../pipeline/alert/alert-topology.ts';
import type { AlertEvent, AlertRuleSource } from '../../../pipeline/alert/types.ts';
import type { AlertRule } from '../../../storage/db/types.ts';
import type { MetricWindow } from '../../../storage/metrics/types.ts';
import { Serdes, TopologyTestDriver } from '../../../topology/index.ts';
import { MIN, rule, T0, window } from './fixtures.ts';

const config = loadConfig({}, { partitions: 1 });

class FakeRules implements AlertRuleSource {
  private listener: (() => void) | null = null;
  constructor(public rules: AlertRule[]) {}
  async list() {
    return this.rules.map((r) => ({ ...r }));
  }
  watch(onChange: () => void) {
    this.listener = onChange;
    return () => {
      this.listener = null;
    };
  }
  change(rules: AlertRule[]) {
    this.rules = rules;
    this.listener?.();
  }
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function setup(rules: AlertRule[]) {
  const source = new FakeRules(rules);
  const stage: AlertStage = buildAlertTopology(
    config,
    { metrics: Serdes.Json(), alerts: Serdes.Json() },
    source,
    undefined,
    {
      partitions: 1,
    },
  );
  await stage.start();
  const driver = new TopologyTestDriver(stage.topology, { initialWallClockTimeMs: T0 });
  cleanups.push(
    () => driver.close(),
    () => stage.stop(),
  );
  const metrics = driver.createInputTopic(
    config.topics.metrics,
    Serdes.String(),
    Serdes.Json<MetricWindow>(),
  );
  const alerts = driver.createOutputTopic(config.topics.alerts, Serdes.String(), Serdes.Json<AlertEvent>());
  const events: AlertEvent[] = [];
  const read = () => {
    for (const [key, value] of alerts.readKeyValuesToList()) {
      expect(key).toBe(value.fingerprint);
      events.push(value);
    }
    return events.map((e) => e.state);
  };
  /** Moves virtual time to `at` (ms since T0 is given as absolute time). */
  let now = T0;
  const advanceTo = (at: number) => {
    driver.advanceWallClockTime(at - now);
    now = at;
  };
  const pipe = (w: MetricWindow) => metrics.pipeInput(w.service, w, w.window_start);
  const reload = async (next: AlertRule[]) => {
    source.change(next);
    await stage.rules.reload();
  };
  return { driver, read, events, advanceTo, pipe, reload, stage };
}

describe('alert topology (test driver, virtual time)', () => {
  it('pending → firing → resolved: a burst fires once and resolves once', async () => {
    const t = await setup([rule({ for_seconds: 10 })]);
    t.advanceTo(T0 + 5_000);
    t.pipe(window('payment-service', T0, { ERROR: 3 }));
    t.pipe(window('payment-service', T0, { ERROR: 30 })); // pending from T0+5s
    expect(t.read()).toEqual([]);
    t.advanceTo(T0 + 14_000);
    expect(t.read()).toEqual([]);
    t.advanceTo(T0 + 15_000);
    expect(t.read()).toEqual(['FIRING']);
    t.pipe(window('payment-service', T0, { ERROR: 60 }));
    t.advanceTo(T0 + MIN + 30_000);
    expect(t.read()).toEqual(['FIRING']);
    t.advanceTo(T0 + 2 * MIN + 1000);
    expect(t.read()).toEqual(['FIRING', 'RESOLVED']);
    t.advanceTo(T0 + 10 * MIN);
    expect(t.read()).toEqual(['FIRING', 'RESOLVED']);
    const [firing, resolved] = t.events;
    expect(firing).toMatchObject({ service: 'payment-service', value: 30, started_at: T0 + 15_000 });
    expect(resolved).toMatchObject({ started_at: firing.started_at, reason: 'recovered' });
    // the minute window leaves the 60 s range at T0 + 2 min; the punctuator notices at its next tick
    expect(resolved.resolved_at).toBeGreaterThanOrEqual(T0 + 2 * MIN);
    expect(resolved.resolved_at).toBeLessThanOrEqual(T0 + 2 * MIN + 1000);
    expect(resolved.fingerprint).toBe(firing.fingerprint);
  });

  // Per-minute error counts oscillating around the threshold of 10 (60 s range = this + last minute).
  const oscillating = [12, 5, 5, 11, 5, 5];
  async function runOscillation(recovery: number | null) {
    const t = await setup([rule({ threshold: 10, recovery_threshold: recovery })]);
    oscillating.forEach((v, i) => {
      t.advanceTo(T0 + i * MIN + 1000);
      t.pipe(window('payment-service', T0 + i * MIN, { ERROR: v }));
    });
    t.advanceTo(T0 + 7 * MIN + 1000);
    return t.read();
  }

  it('flapping around the threshold is suppressed by the recovery threshold', async () => {
    expect(await runOscillation(3)).toEqual(['FIRING', 'RESOLVED']);
  });

  it('without a recovery threshold the same counts flap (the control for the test above)', async () => {
    expect(await runOscillation(null)).toEqual(['FIRING', 'RESOLVED', 'FIRING', 'RESOLVED']);
  });

  it('absence fires on wall-clock ticks alone and resolves when logs return', async () => {
    const t = await setup([rule({ condition: 'absence', threshold: 0, levels: [], window_seconds: 120 })]);
    t.pipe(window('payment-service', T0, { INFO: 10 }));
    t.advanceTo(T0 + 2 * MIN);
    expect(t.read()).toEqual([]);
    t.advanceTo(T0 + 3 * MIN);
    expect(t.read()).toEqual(['FIRING']);
    t.advanceTo(T0 + 4 * MIN + 2000);
    t.pipe(window('payment-service', T0 + 4 * MIN, { INFO: 1 }));
    expect(t.read()).toEqual(['FIRING', 'RESOLVED']);
  });

  it('rule edits while firing apply without a restart: threshold raised, then rule deleted', async () => {
    const t = await setup([rule(), rule({ id: 2, name: 'second' })]);
    t.advanceTo(T0 + 1000);
    t.pipe(window('payment-service', T0, { ERROR: 20 }));
    expect(t.read()).toEqual(['FIRING', 'FIRING']);
    await t.reload([rule({ threshold: 100, updated_at: 'edited' }), rule({ id: 2, name: 'second' })]);
    t.advanceTo(T0 + 2000);
    expect(t.read()).toEqual(['FIRING', 'FIRING', 'RESOLVED']);
    expect(t.events[2]).toMatchObject({ rule_id: 1, reason: 'rule_changed', threshold: 100 });
    await t.reload([rule({ threshold: 100, updated_at: 'edited' })]);
    t.advanceTo(T0 + 3000);
    expect(t.read()).toEqual(['FIRING', 'FIRING', 'RESOLVED', 'RESOLVED']);
    expect(t.events[3]).toMatchObject({ rule_id: 2, reason: 'rule_deleted', rule_name: 'second' });
  });

  it('keeps alert state in the changelog-backed store', async () => {
    const t = await setup([rule()]);
    t.advanceTo(T0 + 1000);
    t.pipe(window('payment-service', T0, { ERROR: 20 }));
    t.read();
    const store = t.driver.getKeyValueStore<string, { phase?: string }>('alert-state')!;
    const phases = [...store.all()].filter(([k]) => k.startsWith('a:')).map(([, v]) => v.phase);
    expect(phases).toEqual(['firing']);
    expect(t.driver.producedTopicNames().some((n) => n.includes('alert-state-changelog'))).toBe(true);
  });
});
