import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MetricWindow } from '../../../storage/metrics/types.ts';
import { bearer, errorCode, type Harness, makeLog, NOW, startHarness } from './harness.ts';

const MIN = 60_000;

function window(service: string, minutesAgo: number, counts: Record<string, number>): MetricWindow {
  const start = Math.floor(NOW / MIN) * MIN - minutesAgo * MIN;
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  return {
    service,
    window_start: start,
    window_end: start + MIN,
    counts,
    total,
    error_rate: ((counts.ERROR ?? 0) + (counts.FATAL ?? 0)) / total,
    version: 1,
    resolution: '1m',
  };
}

describe('metrics routes', () => {
  let h: Harness;
  let auth: Record<string, string>;
  const get = (url: string) => h.app.inject({ url, headers: auth });

  beforeAll(async () => {
    h = await startHarness();
    auth = bearer(h.viewerToken);
    await h.metricsView.upsert([
      window('payment-service', 2, { INFO: 70, WARN: 15, ERROR: 10, DEBUG: 5 }),
      window('payment-service', 20, { INFO: 7, ERROR: 3 }),
      window('auth-service', 3, { INFO: 40 }),
      window('auth-service', 50, { INFO: 10, FATAL: 10 }),
      window('user-service', 120, { INFO: 1000 }),
    ]);
    await h.logStore.index([
      makeLog({
        id: 'e1',
        level: 'ERROR',
        service: 'payment-service',
        message: 'Payment gateway unavailable',
        timestamp: NOW - 2 * MIN,
      }),
      makeLog({
        id: 'e2',
        level: 'ERROR',
        service: 'payment-service',
        message: 'Payment gateway unavailable',
        timestamp: NOW - 3 * MIN,
      }),
      makeLog({
        id: 'e3',
        level: 'FATAL',
        service: 'payment-service',
        message: 'Out of memory',
        timestamp: NOW - 4 * MIN,
      }),
      makeLog({
        id: 'e4',
        level: 'INFO',
        service: 'payment-service',
        message: 'fine',
        timestamp: NOW - 4 * MIN,
      }),
    ]);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('overview: the seed fields, equal to a recount of the windows in range', async () => {
    const res = await get('/api/v1/metrics/overview?time_range=1h');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({
      time_range: '1h',
      total_logs: 170,
      by_level: { INFO: 127, WARN: 15, ERROR: 13, DEBUG: 5, FATAL: 10 },
      by_service: { 'payment-service': 110, 'auth-service': 60 },
    });
    expect(body.logs_per_minute).toBeCloseTo(170 / 60, 2);
    expect(body.error_rate).toBeCloseTo(23 / 170, 4);
    const short = (await get('/api/v1/metrics/overview?time_range=5m')).json();
    expect(short.total_logs).toBe(140);
    expect((await get('/api/v1/metrics/overview')).json().time_range).toBe('1h');
    expect((await get('/api/v1/metrics/overview?time_range=24h')).json().total_logs).toBe(1170);
  });

  it('service: its numbers and its top error messages from the search store', async () => {
    const body = (await get('/api/v1/metrics/service/payment-service?time_range=1h')).json();
    expect(body).toMatchObject({ service: 'payment-service', total_logs: 110, by_level: { ERROR: 13 } });
    expect(body.error_rate).toBeCloseTo(13 / 110, 4);
    expect(body.top_errors).toEqual([
      { message: 'Payment gateway unavailable', count: 2 },
      { message: 'Out of memory', count: 1 },
    ]);
    const unknown = (await get('/api/v1/metrics/service/nobody')).json();
    expect(unknown).toMatchObject({ total_logs: 0, error_rate: 0, top_errors: [] });
  });

  it('system: totals plus a per-service breakdown', async () => {
    const body = (await get('/api/v1/metrics/system?time_range=6h')).json();
    expect(body.total_logs).toBe(1170);
    expect(body.services_count).toBe(3);
    expect(body.services.map((s: { service: string }) => s.service)).toEqual([
      'user-service',
      'payment-service',
      'auth-service',
    ]);
    expect(body.services[2]).toMatchObject({
      service: 'auth-service',
      total_logs: 60,
      by_level: { INFO: 50, FATAL: 10 },
    });
    expect(body.indexed_logs).toBe(4);
  });

  it('timeseries: aligned points with zero buckets, per service', async () => {
    const body = (
      await get('/api/v1/metrics/timeseries?interval=5m&time_range=1h&service=payment-service')
    ).json();
    expect(body).toMatchObject({ interval: '5m', time_range: '1h', service: 'payment-service' });
    expect(body.points).toHaveLength(12);
    expect(body.points.reduce((n: number, p: { total: number }) => n + p.total, 0)).toBe(110);
    for (const p of body.points) expect(Date.parse(p.timestamp) % (5 * MIN)).toBe(0);
    const all = (await get('/api/v1/metrics/timeseries?interval=1m&time_range=15m')).json();
    expect(all.service).toBeNull();
    expect(all.points).toHaveLength(15);
    const month = await get('/api/v1/metrics/timeseries?interval=1h&time_range=30d');
    expect(month.statusCode).toBe(200);
    expect(month.json().points).toHaveLength(720);
  });

  it('unsupported ranges and intervals: 400 LF_ERR_UNSUPPORTED_RANGE listing the valid ones', async () => {
    for (const url of [
      '/api/v1/metrics/overview?time_range=2h',
      '/api/v1/metrics/service/a?time_range=1y',
      '/api/v1/metrics/system?time_range=',
      '/api/v1/metrics/timeseries?interval=2m',
      '/api/v1/metrics/timeseries?time_range=45m',
      '/api/v1/metrics/timeseries?interval=1m&time_range=7d',
    ]) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(400);
      expect(errorCode(res), url).toBe('LF_ERR_UNSUPPORTED_RANGE');
      expect(res.json().details.supported_time_ranges).toEqual([
        '5m',
        '15m',
        '30m',
        '1h',
        '6h',
        '12h',
        '24h',
        '7d',
        '30d',
      ]);
      expect(res.json().details.supported_intervals.length).toBeGreaterThan(0);
    }
    const extra = await get('/api/v1/metrics/overview?time_range=1h&x=1');
    expect(errorCode(extra)).toBe('LF_ERR_VALIDATION');
  });
});
