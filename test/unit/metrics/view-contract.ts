/**
 * The behaviour every MetricsView must have; run against the memory view (unit) and the Redis
 * view (integration) so both give the API the same answers.
 */
import { describe, expect, it } from 'vitest';
import type { MetricsView, MetricWindow } from '../../../storage/metrics/types.ts';
import { DAY_MS, HOUR_MS, MINUTE_MS } from '../../../storage/metrics/windows.ts';

export const NOW = Date.UTC(2026, 10, 27, 12, 30);

export function w(
  service: string,
  start: number,
  counts: Record<string, number>,
  resolution: '1m' | '1h' = '1m',
  version?: number,
): MetricWindow {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  return {
    service,
    window_start: start,
    window_end: start + (resolution === '1m' ? MINUTE_MS : HOUR_MS),
    counts,
    total,
    error_rate: total ? (counts.ERROR ?? 0) / total : 0,
    version: version ?? total,
    resolution,
  };
}

/** `make` must return an empty view whose clock reads NOW. */
export function metricsViewContract(name: string, make: () => Promise<MetricsView>): void {
  describe(`MetricsView contract: ${name}`, () => {
    it('rolls 1m windows up into zero-filled buckets, per service or for all', async () => {
      const view = await make();
      const base = NOW - 30 * MINUTE_MS; // 12:00
      await view.upsert([
        w('payment-service', base, { INFO: 3, ERROR: 1 }),
        w('payment-service', base + MINUTE_MS, { INFO: 2 }),
        w('payment-service', base + 6 * MINUTE_MS, { ERROR: 4 }),
        w('auth-service', base + 2 * MINUTE_MS, { WARN: 5 }),
      ]);
      const all = await view.series(base, base + 15 * MINUTE_MS, 5 * MINUTE_MS);
      expect(all).toEqual([
        { timestamp: base, total: 11, counts: { INFO: 5, ERROR: 1, WARN: 5 } },
        { timestamp: base + 5 * MINUTE_MS, total: 4, counts: { ERROR: 4 } },
        { timestamp: base + 10 * MINUTE_MS, total: 0, counts: {} },
      ]);
      const one = await view.series(base, base + 10 * MINUTE_MS, 5 * MINUTE_MS, 'auth-service');
      expect(one.map((p) => p.total)).toEqual([5, 0]);
      expect(await view.byService(base, base + 30 * MINUTE_MS)).toEqual({
        'payment-service': { total: 10, counts: { INFO: 5, ERROR: 5 } },
        'auth-service': { total: 5, counts: { WARN: 5 } },
      });
      expect(await view.services()).toEqual(['auth-service', 'payment-service']);
      await view.close();
    });

    it('keeps the highest version: replays and stale updates change nothing', async () => {
      const view = await make();
      const start = NOW - 10 * MINUTE_MS;
      await view.upsert([w('svc', start, { INFO: 5 })]);
      await view.upsert([w('svc', start, { INFO: 9 })]);
      await view.upsert([w('svc', start, { INFO: 2 }), w('svc', start, { INFO: 9 })]);
      const [point] = await view.series(start, start + MINUTE_MS, MINUTE_MS, 'svc');
      expect(point).toEqual({ timestamp: start, total: 9, counts: { INFO: 9 } });
      await view.close();
    });

    it('answers long ranges from the 1h rollups', async () => {
      const view = await make();
      const dayAgo = NOW - DAY_MS - (NOW % HOUR_MS);
      await view.upsert([
        w('svc', dayAgo - 10 * DAY_MS, { INFO: 100 }, '1h'),
        w('svc', dayAgo, { INFO: 7 }, '1h'),
        w('svc', NOW - 5 * MINUTE_MS, { INFO: 1 }), // 1m windows are not used for 30d
      ]);
      const points = await view.series(NOW - 30 * DAY_MS, NOW, 5 * MINUTE_MS, 'svc');
      expect(points.every((p) => p.timestamp % HOUR_MS === 0)).toBe(true);
      expect(points.reduce((n, p) => n + p.total, 0)).toBe(107);
      expect(await view.byService(NOW - 30 * DAY_MS, NOW)).toEqual({
        svc: { total: 107, counts: { INFO: 107 } },
      });
      await view.close();
    });

    it('ignores windows older than their retention and clears everything', async () => {
      const view = await make();
      await view.upsert([w('old', NOW - 3 * DAY_MS, { INFO: 1 }), w('new', NOW - MINUTE_MS, { INFO: 1 })]);
      expect(await view.services()).toEqual(['new']);
      await view.clear();
      expect(await view.services()).toEqual([]);
      expect((await view.series(NOW - 5 * MINUTE_MS, NOW, MINUTE_MS)).every((p) => p.total === 0)).toBe(true);
      expect(await view.ping()).toBe(true);
      await view.close();
    });
  });
}
