import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../common/config.ts';
import { RedisMetricsView } from '../../../storage/metrics/redis-view.ts';
import { DAY_MS, MINUTE_MS } from '../../../storage/metrics/windows.ts';
import { randomName } from '../../helpers/names.ts';
import { metricsViewContract, NOW, w } from '../../unit/metrics/view-contract.ts';

const { redisUrl } = loadConfig();
const prefixes: string[] = [];
const views: RedisMetricsView[] = [];

function makeView(now = () => NOW): RedisMetricsView {
  const prefix = `${randomName('lftest')}:`;
  prefixes.push(prefix);
  const view = new RedisMetricsView({ url: redisUrl, prefix, now });
  views.push(view);
  return view;
}

afterAll(async () => {
  // Each test's view cleans its keys; close views left open by failures.
  for (const view of views) {
    await view.clear().catch(() => {});
    await view.close();
  }
});

metricsViewContract('redis', async () => makeView());

describe('redis view layout', () => {
  it('bounds memory: TTLs on every key and trimming past retention', async () => {
    const view = makeView();
    await view.upsert([
      w('svc', NOW - MINUTE_MS, { INFO: 1 }),
      w('svc', NOW - 3 * 3_600_000, { INFO: 1 }, '1h'),
    ]);
    const raw = new Redis(redisUrl);
    try {
      const minuteTtl = await raw.pttl(view.windowKey('1m', 'svc'));
      const hourTtl = await raw.pttl(view.windowKey('1h', 'svc'));
      expect(minuteTtl).toBeGreaterThan(DAY_MS);
      expect(minuteTtl).toBeLessThanOrEqual(2 * DAY_MS);
      expect(hourTtl).toBeGreaterThan(30 * DAY_MS);
      expect(await raw.pttl(view.servicesKey)).toBeGreaterThan(0);
      // A view whose clock moved 3 days on trims the old minute window at its next write.
      const later = new RedisMetricsView({ url: redisUrl, prefix: view.prefix, now: () => NOW + 3 * DAY_MS });
      await later.upsert([w('svc', NOW + 3 * DAY_MS - MINUTE_MS, { INFO: 1 })]);
      expect(await raw.zcard(view.windowKey('1m', 'svc'))).toBe(1);
      await later.close();
    } finally {
      await view.clear();
      raw.disconnect();
    }
  });
});
