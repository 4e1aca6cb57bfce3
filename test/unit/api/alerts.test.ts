import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertRuleChange } from '../../../storage/db/types.ts';
import { bearer, errorCode, type Harness, NOW, startHarness } from './harness.ts';

const rule = {
  name: 'payment errors',
  service: 'payment-service',
  levels: ['ERROR'],
  condition: 'count_above',
  threshold: 10,
  recovery_threshold: 5,
  window_seconds: 60,
  for_seconds: 30,
  keep_firing_seconds: 60,
  severity: 'critical',
  labels: { team: 'payments' },
  targets: [{ url: 'https://hooks.example.com/x', format: 'slack' }],
};

describe('alert routes', () => {
  let h: Harness;
  let admin: Record<string, string>;
  const call = (method: string, url: string, payload?: unknown, headers = admin) =>
    h.app.inject({ method: method as 'GET', url, headers, payload: payload as object });

  beforeAll(async () => {
    h = await startHarness();
    admin = bearer(h.adminToken);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('rules CRUD: create with defaults, read, replace, patch, delete — each visible to watch()', async () => {
    const changes: AlertRuleChange[] = [];
    const stop = h.db.alertRules.watch((c) => changes.push(c));
    const created = await call('POST', '/api/v1/alerts/rules', {
      name: 'minimal',
      condition: 'absence',
      threshold: 0,
      window_seconds: 300,
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({
      severity: 'warning',
      enabled: true,
      levels: [],
      targets: [],
      service: null,
      for_seconds: 0,
    });
    const full = (await call('POST', '/api/v1/alerts/rules', rule)).json();
    expect(full).toMatchObject(rule);
    expect(
      (await call('GET', `/api/v1/alerts/rules/${full.id}`, undefined, bearer(h.viewerToken))).json(),
    ).toEqual(full);
    const list = (await call('GET', '/api/v1/alerts/rules')).json();
    expect(list.total).toBe(2);
    const patched = await call('PATCH', `/api/v1/alerts/rules/${full.id}`, { enabled: false });
    expect(patched.json()).toMatchObject({ ...rule, enabled: false });
    expect((await call('GET', '/api/v1/alerts/rules?enabled=false')).json().total).toBe(1);
    const replaced = await call('PUT', `/api/v1/alerts/rules/${full.id}`, {
      name: 'rate',
      condition: 'error_rate_above',
      threshold: 0.2,
      window_seconds: 60,
    });
    expect(replaced.json()).toMatchObject({
      name: 'rate',
      labels: {},
      enabled: true,
      recovery_threshold: null,
    });
    expect((await call('DELETE', `/api/v1/alerts/rules/${full.id}`)).statusCode).toBe(204);
    expect(errorCode(await call('GET', `/api/v1/alerts/rules/${full.id}`))).toBe('LF_ERR_NOT_FOUND');
    expect(errorCode(await call('DELETE', `/api/v1/alerts/rules/${full.id}`))).toBe('LF_ERR_NOT_FOUND');
    expect(errorCode(await call('PATCH', '/api/v1/alerts/rules/999', { enabled: true }))).toBe(
      'LF_ERR_NOT_FOUND',
    );
    expect(changes.map((c) => c.op)).toEqual(['created', 'created', 'updated', 'updated', 'deleted']);
    await stop();
    const dup = await call('POST', '/api/v1/alerts/rules', { ...rule, name: 'minimal' });
    expect(errorCode(dup)).toBe('LF_ERR_CONFLICT');
  });

  it('rule validation: every bad field is a 400 with details', async () => {
    const bad: Record<string, unknown>[] = [
      {},
      { ...rule, name: '' },
      { ...rule, condition: 'count_below' },
      { ...rule, threshold: -1 },
      { ...rule, threshold: '10' },
      { ...rule, window_seconds: 5 },
      { ...rule, window_seconds: 60.5 },
      { ...rule, for_seconds: -1 },
      { ...rule, severity: 'page' },
      { ...rule, levels: ['LOUD'] },
      { ...rule, labels: { 'bad key': 'x' } },
      { ...rule, labels: { a: 1 } },
      { ...rule, enabled: 'yes' },
      { ...rule, targets: [{ url: 'ftp://x' }] },
      { ...rule, targets: [{ url: 'https://x', format: 'xml' }] },
      { ...rule, targets: [{ url: 'https://x', extra: 1 }] },
      { ...rule, recovery_threshold: 11 },
      { ...rule, condition: 'error_rate_above', threshold: 1.5, recovery_threshold: null },
      { ...rule, surprise: true },
    ];
    for (const payload of bad) {
      const res = await call('POST', '/api/v1/alerts/rules', payload);
      expect(res.statusCode, JSON.stringify(payload).slice(0, 120)).toBe(400);
      expect(errorCode(res)).toBe('LF_ERR_VALIDATION');
      expect(res.json().details).not.toBeNull();
    }
    for (const url of [
      '/api/v1/alerts/rules/abc',
      '/api/v1/alerts/rules/0',
      '/api/v1/alerts/rules/-1',
      '/api/v1/alerts/rules/99999999999',
    ]) {
      expect((await call('GET', url)).statusCode, url).toBe(400);
    }
    expect(errorCode(await call('PATCH', '/api/v1/alerts/rules/1', {}))).toBe('LF_ERR_VALIDATION');
  });

  it('history: filters, paging, one alert, acknowledge (409 once resolved)', async () => {
    const base = {
      rule_id: 1,
      rule_name: 'r',
      severity: 'critical' as const,
      value: 12,
      threshold: 10,
      labels: {},
    };
    const a = await h.db.triggeredAlerts.recordFiring({
      ...base,
      fingerprint: 'f1',
      service: 'payment-service',
      started_at: new Date(NOW - 3_600_000).toISOString(),
    });
    const b = await h.db.triggeredAlerts.recordFiring({
      ...base,
      rule_id: 2,
      fingerprint: 'f2',
      service: 'auth-service',
      started_at: new Date(NOW - 60_000).toISOString(),
    });
    await h.db.triggeredAlerts.recordResolved('f1', new Date(NOW - 1_800_000).toISOString());
    const all = (await call('GET', '/api/v1/alerts/history')).json();
    expect(all.total).toBe(2);
    expect(all.alerts.map((x: { id: number }) => x.id)).toEqual([b.id, a.id]);
    expect((await call('GET', '/api/v1/alerts/history?status=resolved')).json().alerts[0].id).toBe(a.id);
    expect((await call('GET', '/api/v1/alerts/history?rule_id=2')).json().total).toBe(1);
    expect((await call('GET', '/api/v1/alerts/history?service=auth-service')).json().total).toBe(1);
    expect((await call('GET', '/api/v1/alerts/history?since=2026-03-01 11:30:00')).json().total).toBe(1);
    expect((await call('GET', '/api/v1/alerts/history?until=2026-03-01T11:30:00Z')).json().total).toBe(1);
    expect((await call('GET', '/api/v1/alerts/history?limit=1&offset=1')).json().alerts[0].id).toBe(a.id);
    for (const q of [
      'status=open',
      'rule_id=x',
      'limit=0',
      'since=never',
      'since=2026-03-02T00:00:00Z&until=2026-03-01T00:00:00Z',
    ]) {
      expect(errorCode(await call('GET', `/api/v1/alerts/history?${q}`)), q).toBe('LF_ERR_VALIDATION');
    }
    expect((await call('GET', `/api/v1/alerts/history/${b.id}`)).json().fingerprint).toBe('f2');
    const acked = await call('POST', `/api/v1/alerts/history/${b.id}/acknowledge`);
    expect(acked.json()).toMatchObject({
      status: 'acknowledged',
      acknowledged_by: 'admin',
      acknowledged_at: new Date(NOW).toISOString(),
    });
    expect(errorCode(await call('POST', `/api/v1/alerts/history/${a.id}/acknowledge`))).toBe(
      'LF_ERR_CONFLICT',
    );
    expect(errorCode(await call('POST', '/api/v1/alerts/history/999/acknowledge'))).toBe('LF_ERR_NOT_FOUND');
  });

  it('silences: mute a rule or a service for a period; active flag; CRUD', async () => {
    const r = (await call('POST', '/api/v1/alerts/rules', { ...rule, name: 'to-silence' })).json();
    const byRule = await call('POST', '/api/v1/alerts/silences', {
      rule_id: r.id,
      duration_seconds: 3600,
      comment: 'deploy',
    });
    expect(byRule.statusCode).toBe(201);
    expect(byRule.json()).toMatchObject({
      rule_id: r.id,
      service: null,
      active: true,
      created_by: 'admin',
      starts_at: new Date(NOW).toISOString(),
    });
    const future = await call('POST', '/api/v1/alerts/silences', {
      service: 'auth-service',
      starts_at: '2026-03-02 00:00:00',
      ends_at: '2026-03-02T06:00:00Z',
    });
    expect(future.json()).toMatchObject({ active: false, service: 'auth-service' });
    expect(await h.db.silences.isSilenced(r.id, null, new Date(NOW + 60_000).toISOString())).toBe(true);
    expect((await call('GET', '/api/v1/alerts/silences?active=true')).json().total).toBe(1);
    expect((await call('GET', '/api/v1/alerts/silences')).json().total).toBe(2);
    const id = future.json().id;
    const moved = await call('PUT', `/api/v1/alerts/silences/${id}`, {
      service: 'auth-service',
      duration_seconds: 60,
    });
    expect(moved.json().active).toBe(true);
    expect((await call('GET', `/api/v1/alerts/silences/${id}`)).json().id).toBe(id);
    expect((await call('DELETE', `/api/v1/alerts/silences/${id}`)).statusCode).toBe(204);
    expect(errorCode(await call('GET', `/api/v1/alerts/silences/${id}`))).toBe('LF_ERR_NOT_FOUND');
    expect(
      errorCode(await call('PUT', `/api/v1/alerts/silences/${id}`, { service: 'a', duration_seconds: 60 })),
    ).toBe('LF_ERR_NOT_FOUND');
    for (const payload of [
      {},
      { duration_seconds: 60 },
      { service: 'a' },
      { service: 'a', duration_seconds: 60, ends_at: '2026-03-02T00:00:00Z' },
      { service: 'a', ends_at: '2026-03-01T00:00:00Z' },
      { service: 'a', duration_seconds: 0 },
      { rule_id: 424242, duration_seconds: 60 },
      { service: 'a', starts_at: 'soon', duration_seconds: 60 },
      { service: 'a', duration_seconds: 60, extra: 1 },
    ]) {
      const res = await call('POST', '/api/v1/alerts/silences', payload);
      expect(res.statusCode, JSON.stringify(payload)).toBe(400);
      expect(errorCode(res)).toBe('LF_ERR_VALIDATION');
    }
  });

  it('config: defaults, admin changes persist, unknown keys and bad values rejected, secrets never shown', async () => {
    const before = (await call('GET', '/api/v1/config')).json();
    expect(before).toEqual({
      retention_days: 7,
      metrics_retention_days: 30,
      search_cache_ttl_seconds: 5,
      default_time_range: '1h',
    });
    const put = await call('PUT', '/api/v1/config', { retention_days: 30, default_time_range: '24h' });
    expect(put.json()).toMatchObject({ retention_days: 30, default_time_range: '24h' });
    expect(await h.db.systemConfig.get('retention_days')).toBe(30);
    for (const payload of [
      {},
      { retention_days: 0 },
      { retention_days: '7' },
      { default_time_range: '2h' },
      { 'internal.jwt_secret': 'x' },
    ]) {
      expect(errorCode(await call('PUT', '/api/v1/config', payload)), JSON.stringify(payload)).toBe(
        'LF_ERR_VALIDATION',
      );
    }
    await h.db.systemConfig.set('internal.jwt_secret', 'hidden');
    expect((await call('GET', '/api/v1/config')).body).not.toContain('hidden');
  });
});
