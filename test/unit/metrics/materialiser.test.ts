import { Registry } from 'prom-client';
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
/** Series of one metric family as /metrics would show them (label sets and values). */
async function series(registry: Registry, name: string) {
  const metric = registry.getSingleMetric(name);
  return metric ? (await metric.get()).values.map((v) => ({ labels: v.labels, value: v.value })) : [];
}

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
    const registry = new Registry();
    const m = createRedisMaterialiser(config, { transport, view, serde, groupId: 'mat-test', registry });
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
    expect(await series(registry, 'logflow_sink_records_total')).toEqual([
      { labels: { sink: 'metrics-view', result: 'written' }, value: 3 },
    ]);
    expect(await series(registry, 'logflow_sink_rebuilds_total')).toEqual([]);
    await transport.close();
  });

  it('rebuild() clears the view and replays the topic from the beginning', async () => {
    const transport = new MemoryTransport();
    await transport.ensureTopics([{ name: config.topics.metrics, partitions: 2 }]);
    const view = new MemoryMetricsView();
    const start = NOW - 5 * MINUTE_MS - (NOW % MINUTE_MS);
    await produce(transport, [w('a', start, { INFO: 4 }), w('b', start + MINUTE_MS, { WARN: 1 })]);
    const registry = new Registry();
    const m = createRedisMaterialiser(config, { transport, view, serde, groupId: 'mat-rebuild', registry });
    started.push(m);
    await m.start();
    await waitFor(async () => (await view.services()).length === 2);
    await waitFor(async () => (await series(registry, 'logflow_sink_records_total'))[0]?.value === 2);
    await view.clear(); // "Redis flushed"
    expect(await view.services()).toEqual([]);
    expect(await m.rebuild()).toBe(2);
    expect(await series(registry, 'logflow_sink_rebuilds_total')).toEqual([
      { labels: { sink: 'metrics-view' }, value: 1 },
    ]);
    expect(await series(registry, 'logflow_sink_records_total')).toEqual([
      { labels: { sink: 'metrics-view', result: 'written' }, value: 4 },
    ]);
    // Every upsert (consumption and rebuild) is timed on the sinks' bulk histogram, all ok here.
    const upserts =
      (await registry.getSingleMetric('logflow_sink_bulk_duration_seconds')?.get())?.values ?? [];
    const counts = upserts.filter(
      (v) => (v as { metricName?: string }).metricName === 'logflow_sink_bulk_duration_seconds_count',
    );
    expect(counts.map((v) => v.labels)).toEqual([{ sink: 'metrics-view', outcome: 'ok' }]);
    expect(counts[0].value).toBeGreaterThan(0);
    await transport.close();
  });
});
