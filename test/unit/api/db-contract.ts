/**
 * The repository contract both database implementations must meet; run by the SQLite unit test
 * and the PostgreSQL integration test with a fresh database each.
 */
import { expect, it } from 'vitest';
import { isLogFlowError } from '../../../common/errors.ts';
import type { AlertRuleChange, AlertRuleInput, Database } from '../../../storage/db/types.ts';
import { waitFor } from '../../helpers/wait-for.ts';

export function ruleInput(overrides: Partial<AlertRuleInput> = {}): AlertRuleInput {
  return {
    name: 'errors-high',
    description: 'Too many errors',
    service: 'payment-service',
    levels: ['ERROR'],
    condition: 'count_above',
    threshold: 10,
    recovery_threshold: 5,
    window_seconds: 60,
    for_seconds: 30,
    keep_firing_seconds: 0,
    severity: 'critical',
    labels: { team: 'payments' },
    enabled: true,
    targets: [{ url: 'http://127.0.0.1:9/hook', format: 'json' }],
    ...overrides,
  };
}

export function databaseContract(open: () => Database, afterOpen?: (db: Database) => Promise<void>): void {
  it('migrations are idempotent', async () => {
    const db = open();
    expect(await db.migrate()).toEqual([]);
    expect(await db.ping()).toBe(true);
  });

  it('users: create, find, update, unique username, delete', async () => {
    const db = open();
    const u = await db.users.create({
      username: 'ann',
      email: 'ann@x.io',
      role: 'viewer',
      password_hash: 'h',
    });
    expect(u).toMatchObject({ username: 'ann', role: 'viewer', last_login_at: null });
    expect(await db.users.findByUsername('ann')).toEqual(u);
    const err = await db.users
      .create({ username: 'ann', email: null, role: 'admin', password_hash: 'h' })
      .catch((e) => e);
    expect(isLogFlowError(err) && err.code).toBe('LF_ERR_CONFLICT');
    const updated = await db.users.update(u.id, { role: 'admin' });
    expect(updated?.role).toBe('admin');
    await db.users.recordLogin(u.id, '2026-01-02T03:04:05.000Z');
    expect((await db.users.get(u.id))?.last_login_at).toBe('2026-01-02T03:04:05.000Z');
    expect(await db.users.count('admin')).toBe(1);
    expect(await db.users.delete(u.id)).toBe(true);
    expect(await db.users.delete(u.id)).toBe(false);
    expect(await db.users.get(u.id)).toBeNull();
  });

  it('api keys: stored by hash, found by hash, deleted', async () => {
    const db = open();
    const k = await db.apiKeys.create({
      name: 'ci',
      prefix: 'lf_abcd',
      key_hash: 'hash-1',
      role: 'viewer',
      created_by: 'admin',
      expires_at: null,
    });
    expect(await db.apiKeys.findByHash('hash-1')).toEqual(k);
    expect(await db.apiKeys.findByHash('nope')).toBeNull();
    await db.apiKeys.recordUse(k.id, '2026-01-01T00:00:00.000Z');
    expect((await db.apiKeys.list())[0].last_used_at).toBe('2026-01-01T00:00:00.000Z');
    expect(await db.apiKeys.delete(k.id)).toBe(true);
  });

  it('alert rules: CRUD round-trips every field and watchers see each change', async () => {
    const db = open();
    await afterOpen?.(db);
    const changes: AlertRuleChange[] = [];
    const stop = db.alertRules.watch((c) => c.op !== 'reload' && changes.push(c));
    await afterOpen?.(db);
    const rule = await db.alertRules.create(ruleInput());
    expect(rule).toMatchObject(ruleInput());
    expect(await db.alertRules.get(rule.id)).toEqual(rule);
    const updated = await db.alertRules.update(rule.id, ruleInput({ enabled: false, threshold: 0.25 }));
    expect(updated).toMatchObject({ enabled: false, threshold: 0.25 });
    expect(await db.alertRules.list({ enabled: true })).toEqual([]);
    expect(await db.alertRules.list({ enabled: false })).toHaveLength(1);
    expect(await db.alertRules.delete(rule.id)).toBe(true);
    expect(await db.alertRules.update(rule.id, ruleInput())).toBeNull();
    await waitFor(() => changes.length >= 3, { what: 'three rule changes' });
    expect(changes).toEqual([
      { op: 'created', id: rule.id },
      { op: 'updated', id: rule.id },
      { op: 'deleted', id: rule.id },
    ]);
    await stop();
    await stop();
  });

  it('triggered alerts: firing is an idempotent upsert by fingerprint; resolve and acknowledge', async () => {
    const db = open();
    const firing = {
      rule_id: 1,
      rule_name: 'errors-high',
      fingerprint: 'fp-1',
      severity: 'critical' as const,
      service: 'payment-service',
      value: 12,
      threshold: 10,
      labels: { team: 'payments' },
      started_at: '2026-01-01T00:00:00.000Z',
    };
    const a = await db.triggeredAlerts.recordFiring(firing);
    const again = await db.triggeredAlerts.recordFiring({
      ...firing,
      value: 15,
      started_at: '2026-01-01T00:01:00Z',
    });
    expect(again.id).toBe(a.id);
    expect(again).toMatchObject({ status: 'firing', value: 15, started_at: '2026-01-01T00:00:00.000Z' });
    expect(await db.triggeredAlerts.listOpen()).toHaveLength(1);
    const acked = await db.triggeredAlerts.acknowledge(a.id, 'ann', '2026-01-01T00:02:00.000Z');
    expect(acked).toMatchObject({ status: 'acknowledged', acknowledged_by: 'ann' });
    expect((await db.triggeredAlerts.recordFiring({ ...firing, value: 20 })).status).toBe('acknowledged');
    const resolved = await db.triggeredAlerts.recordResolved('fp-1', '2026-01-01T00:05:00.000Z', 3);
    expect(resolved).toMatchObject({ status: 'resolved', value: 3, resolved_at: '2026-01-01T00:05:00.000Z' });
    expect(await db.triggeredAlerts.recordResolved('fp-1', '2026-01-01T00:06:00.000Z')).toBeNull();
    const next = await db.triggeredAlerts.recordFiring({ ...firing, started_at: '2026-01-01T01:00:00.000Z' });
    expect(next.id).not.toBe(a.id);
    const page = await db.triggeredAlerts.list({ limit: 10, offset: 0 });
    expect(page.total).toBe(2);
    expect(page.alerts.map((x) => x.id)).toEqual([next.id, a.id]);
    expect((await db.triggeredAlerts.list({ status: 'resolved', limit: 10, offset: 0 })).total).toBe(1);
    expect(
      (
        await db.triggeredAlerts.list({
          since: '2026-01-01T00:30:00Z',
          service: 'payment-service',
          limit: 10,
          offset: 0,
        })
      ).alerts,
    ).toEqual([next]);
    expect(await db.triggeredAlerts.get(9999)).toBeNull();
  });

  it('silences: active window matches a rule or a service', async () => {
    const db = open();
    const s = await db.silences.create({
      rule_id: null,
      service: 'auth-service',
      starts_at: '2026-01-01T00:00:00Z',
      ends_at: '2026-01-01T01:00:00Z',
      comment: 'deploy',
      created_by: 'admin',
    });
    expect(s.starts_at).toBe('2026-01-01T00:00:00.000Z');
    expect(await db.silences.isSilenced(7, 'auth-service', '2026-01-01T00:30:00Z')).toBe(true);
    expect(await db.silences.isSilenced(7, 'auth-service', '2026-01-01T01:00:00Z')).toBe(false);
    expect(await db.silences.isSilenced(7, 'user-service', '2026-01-01T00:30:00Z')).toBe(false);
    expect(await db.silences.list({ activeAt: '2026-01-01T00:10:00Z' })).toEqual([s]);
    const moved = await db.silences.update(s.id, { ...s, rule_id: 7, service: null });
    expect(await db.silences.isSilenced(7, null, '2026-01-01T00:30:00Z')).toBe(true);
    expect(moved?.rule_id).toBe(7);
    expect(await db.silences.delete(s.id)).toBe(true);
  });

  it('system config: JSON values of any type, setIfAbsent keeps the first', async () => {
    const db = open();
    await db.systemConfig.set('retention_days', 7);
    await db.systemConfig.set('retention_days', 14);
    await db.systemConfig.set('name', 'prod');
    expect(await db.systemConfig.get('retention_days')).toBe(14);
    expect(await db.systemConfig.setIfAbsent('internal.secret', 'a')).toBe('a');
    expect(await db.systemConfig.setIfAbsent('internal.secret', 'b')).toBe('a');
    expect(await db.systemConfig.getAll()).toEqual({
      'internal.secret': 'a',
      name: 'prod',
      retention_days: 14,
    });
    expect(await db.systemConfig.delete('name')).toBe(true);
    expect(await db.systemConfig.get('name')).toBeUndefined();
  });
}
