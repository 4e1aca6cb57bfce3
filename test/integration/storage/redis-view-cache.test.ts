import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../common/config.ts';
import { RedisMetricsView } from '../../../storage/metrics/redis-view.ts';
import type { MetricWindow } from '../../../storage/metrics/types.ts';
import { HOUR_MS, MINUTE_MS } from '../../../storage/metrics/windows.ts';
import { randomName } from '../../helpers/names.ts';
import { NOW, w } from '../../unit/metrics/view-contract.ts';

const { redisUrl } = loadConfig();
const views: RedisMetricsView[] = [];

function view(prefix: string, closedAfterMs?: number): RedisMetricsView {
  const v = new RedisMetricsView({ url: redisUrl, prefix, now: () => NOW, closedAfterMs });
  views.push(v);
  return v;
}

afterAll(async () => {
  for (const v of views) {
    await v.clear().catch(() => {});
    await v.close();
  }
});

/** Three hours of minutes for two services, the newest at NOW - 1 min. */
function minutes(): MetricWindow[] {
  const out: MetricWindow[] = [];
  for (let t = NOW - 3 * HOUR_MS; t < NOW; t += MINUTE_MS) {
    out.push(w('a', t, { INFO: 1 + ((t / MINUTE_MS) % 3) }), w('b', t, { ERROR: 1 }));
  }
  return out;
}

describe('RedisMetricsView cache of final minutes', () => {
  it('answers as an uncached view while the newest windows keep changing', async () => {
    const prefix = `${randomName('lftest')}:`;
    const cached = view(prefix);
    const uncached = view(prefix, 0);
    await cached.upsert(minutes());
    const from = NOW - 6 * HOUR_MS;
    const first = await cached.series(from, NOW, 5 * MINUTE_MS);
    expect(first).toEqual(await uncached.series(from, NOW, 5 * MINUTE_MS));
    // The newest minute updated, and a minute within the last hour updated late.
    await cached.upsert([
      w('a', NOW - MINUTE_MS, { INFO: 50 }, '1m', 99),
      w('b', NOW - 20 * MINUTE_MS, { WARN: 7 }, '1m', 99),
    ]);
    const second = await cached.series(from, NOW, 5 * MINUTE_MS, undefined);
    expect(second).toEqual(await uncached.series(from, NOW, 5 * MINUTE_MS));
    expect(second).not.toEqual(first);
    expect(await cached.series(from, NOW, 5 * MINUTE_MS, 'b')).toEqual(
      await uncached.series(from, NOW, 5 * MINUTE_MS, 'b'),
    );
    expect(await cached.byService(from, NOW)).toEqual(await uncached.byService(from, NOW));
  });

  it('forgets what it cached when the view is rebuilt (a new materialised marker) or cleared', async () => {
    const prefix = `${randomName('lftest')}:`;
    const reader = view(prefix);
    const writer = view(prefix, 0);
    await writer.upsert(minutes());
    const from = NOW - 3 * HOUR_MS;
    const before = await reader.series(from, NOW, HOUR_MS);
    // Another process rebuilds the view from the topic with other counts.
    await writer.clear();
    await writer.upsert(minutes().map((m) => ({ ...m, counts: { INFO: 2 }, total: 2 })));
    await writer.markMaterialised();
    const after = await reader.series(from, NOW, HOUR_MS);
    expect(after).toEqual(await writer.series(from, NOW, HOUR_MS));
    expect(after).not.toEqual(before);
    await reader.clear();
    await writer.upsert([w('a', NOW - 2 * HOUR_MS, { INFO: 1 })]);
    expect(await reader.series(from, NOW, HOUR_MS)).toEqual(await writer.series(from, NOW, HOUR_MS));
  });
});
