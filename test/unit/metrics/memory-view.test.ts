import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MemoryMetricsView } from '../../../storage/metrics/memory-view.ts';
import { MINUTE_MS } from '../../../storage/metrics/windows.ts';
import { metricsViewContract, NOW, w } from './view-contract.ts';

const dir = mkdtempSync(join(tmpdir(), 'lf-metrics-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

metricsViewContract('memory', async () => new MemoryMetricsView({ now: () => NOW }));
metricsViewContract(
  'memory + sqlite file',
  async () => new MemoryMetricsView({ now: () => NOW, file: join(dir, `v${n++}.sqlite`) }),
);

describe('memory view persistence', () => {
  it('reloads windows from its SQLite file after a restart', async () => {
    const file = join(dir, 'restart.sqlite');
    const first = new MemoryMetricsView({ now: () => NOW, file });
    await first.upsert([w('svc', NOW - MINUTE_MS, { ERROR: 3 }), w('svc', NOW - MINUTE_MS, { ERROR: 4 })]);
    await first.close();
    await first.close(); // idempotent
    const second = new MemoryMetricsView({ now: () => NOW, file });
    expect(await second.byService(NOW - 5 * MINUTE_MS, NOW)).toEqual({
      svc: { total: 4, counts: { ERROR: 4 } },
    });
    await second.upsert([w('svc', NOW - MINUTE_MS, { ERROR: 2 })]);
    expect((await second.byService(NOW - 5 * MINUTE_MS, NOW)).svc.total).toBe(4);
    await second.close();
  });
});
