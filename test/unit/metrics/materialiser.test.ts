import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../common/config.ts';
import { createRedisMaterialiser, type RedisMaterialiser } from '../../../connectors/redis/materialiser.ts';
import { MemoryMetricsView } from '../../../storage/metrics/memory-view.ts';
import type { MetricWindow } from '../../../storage/metrics/types.ts';
import { MINUTE_MS } from '../../../storage/metrics/windows.ts';
import { MemoryTransport, Serdes } from '../../../topology/index.ts';
import { waitFor } from '../../helpers/wait-for.ts';
import { w } from './view-contract.ts';

const config = loadConfig({});
const serde = Serdes.Json<MetricWindow>();
const NOW = Date.now();
const started: RedisMaterialiser[] = [];
afterEach(async () => {
  for (const m of started.splice(0)) await m.stop();
});

async function produce(transport: MemoryTransport, windows: MetricWindow[]) {
  const producer = transport.producer();
  await producer.connect();
  await producer.send(
    windows.map((x) => ({
      topic: config.topics.metrics,
      key: Buffer.from(x.service),
      value: serde.serialize('', x),
    })),
  );
  await producer.disconnect();
}

describe('metrics materialiser (memory transport)', () => {
  it('writes windows to the view, keeps the highest version, and commits after the write', async () => {
    const transport = new MemoryTransport();
    await transport.ensureTopics([{ name: config.topics.metrics, partitions: 2 }]);
    const view = new MemoryMetricsView();
    const start = NOW - 5 * MINUTE_MS - (NOW % MINUTE_MS);
    await produce(transport, [
      w('payment-service', start, { ERROR: 1 }),
      w('payment-service', start, { ERROR: 3 }),
      w('auth-service', start, { INFO: 2 }),
    ]);
    const m = createRedisMaterialiser(config, { transport, view, serde, groupId: 'mat-test' });
    started.push(m);
    await m.start();
    await waitFor(async () => (await view.byService(start, start + MINUTE_MS))['auth-service']?.total === 2);
    expect(await view.byService(start, start + MINUTE_MS)).toEqual({
      'payment-service': { total: 3, counts: { ERROR: 3 } },
      'auth-service': { total: 2, counts: { INFO: 2 } },
    });
    await waitFor(async () => {
      const committed = await transport.committedOffsets('mat-test', config.topics.metrics);
      return committed.reduce((n, c) => n + Math.max(0, c.offset), 0) === 3;
    });
    await transport.close();
  });

  it('rebuild() clears the view and replays the topic from the beginning', async () => {
    const transport = new MemoryTransport();
    await transport.ensureTopics([{ name: config.topics.metrics, partitions: 2 }]);
    const view = new MemoryMetricsView();
    const start = NOW - 5 * MINUTE_MS - (NOW % MINUTE_MS);
    await produce(transport, [w('a', start, { INFO: 4 }), w('b', start + MINUTE_MS, { WARN: 1 })]);
    const m = createRedisMaterialiser(config, { transport, view, serde, groupId: 'mat-rebuild' });
    started.push(m);
    await m.start();
    await waitFor(async () => (await view.services()).length === 2);
    await view.clear(); // "Redis flushed"
    expect(await view.services()).toEqual([]);
    expect(await m.rebuild()).toBe(2);
    expect(await view.byService(start, start + 2 * MINUTE_MS)).toEqual({
      a: { total: 4, counts: { INFO: 4 } },
      b: { total: 1, counts: { WARN: 1 } },
    });
    await transport.close();
  });
});
