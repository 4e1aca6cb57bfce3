/**
 * Per-service totals over long ranges (storage/metrics/rollup.ts totalsByService): whole hours
 * come from the 1h rollups, partial hours and hours without a rollup from 1m windows. Run
 * against the memory view (unit) and the Redis view (integration), so both answer the same.
 */
import { describe, expect, it } from 'vitest';
import type { MetricsView } from '../../../storage/metrics/types.ts';
import { HOUR_MS, MINUTE_MS } from '../../../storage/metrics/windows.ts';
import { NOW, w } from '../metrics/view-contract.ts';

/** `make` must return an empty view whose clock reads NOW (12:30). */
export function metricsTotalsContract(name: string, make: () => Promise<MetricsView>): void {
  describe(`MetricsView totals over hours: ${name}`, () => {
    it('sums 24 hours from rollups and minutes, reading minutes where a rollup is missing', async () => {
      const view = await make();
      const from = NOW - 24 * HOUR_MS; // yesterday 12:30; whole hours 13:00 … 12:00 today
      const windows = [];
      // a: every minute of the day, and a rollup for every whole hour that agrees with them.
      for (let t = from; t < NOW; t += MINUTE_MS) windows.push(w('a', t, { INFO: 2, ERROR: 1 }));
      for (let h = from + 30 * MINUTE_MS; h < NOW - 30 * MINUTE_MS; h += HOUR_MS) {
        windows.push(w('a', h, { INFO: 120, ERROR: 60 }, '1h'));
      }
      // b: minutes only, and only inside whole hours (no rollups at all).
      windows.push(w('b', from + 90 * MINUTE_MS, { WARN: 4 }), w('b', from + 5 * HOUR_MS, { WARN: 1 }));
      // c: a rollup for one hour, minutes (no rollup) in another, and minutes at both partial ends.
      windows.push(
        w('c', from + 2.5 * HOUR_MS, { DEBUG: 7 }, '1h'),
        w('c', from + 3.5 * HOUR_MS + 10 * MINUTE_MS, { DEBUG: 3 }),
        w('c', from, { DEBUG: 1 }),
        w('c', NOW - MINUTE_MS, { DEBUG: 2 }),
      );
      await view.upsert(windows);
      expect(await view.byService(from, NOW)).toEqual({
        a: { total: 24 * 60 * 3, counts: { INFO: 24 * 60 * 2, ERROR: 24 * 60 } },
        b: { total: 5, counts: { WARN: 5 } },
        c: { total: 13, counts: { DEBUG: 13 } },
      });
      await view.clear();
      await view.close();
    });

    it('takes a whole hour from its rollup (which may hold late logs its minutes missed)', async () => {
      const view = await make();
      const hour = NOW - 90 * MINUTE_MS; // 11:00
      await view.upsert([
        w('svc', hour, { INFO: 1 }),
        w('svc', hour + MINUTE_MS, { INFO: 1 }),
        w('svc', hour, { INFO: 3 }, '1h'),
        w('svc', NOW - MINUTE_MS, { INFO: 5 }),
      ]);
      expect(await view.byService(hour - 30 * MINUTE_MS, NOW)).toEqual({
        svc: { total: 8, counts: { INFO: 8 } },
      });
      // A range inside one hour has no whole hour: minutes only.
      expect(await view.byService(hour, hour + 30 * MINUTE_MS)).toEqual({
        svc: { total: 2, counts: { INFO: 2 } },
      });
      await view.clear();
      await view.close();
    });
  });
}
