/**
 * The alert stage on the in-memory transport with real LogFlowStreams (exactly-once): its process
 * "dies" (MemoryTransport.kill) while an alert is firing and a new one takes over from the
 * changelog — no second FIRING, and exactly one RESOLVED later.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../common/config.ts';
import { buildAlertTopology } from '../../../pipeline/alert/alert-topology.ts';
import type { AlertEvent, AlertRuleSource } from '../../../pipeline/alert/types.ts';
import type { MetricWindow } from '../../../storage/metrics/types.ts';
import { MINUTE_MS } from '../../../storage/metrics/windows.ts';
import { LogFlowStreams, MemoryTransport, Serdes } from '../../../topology/index.ts';
import { waitFor } from '../../helpers/wait-for.ts';
import { rule, window } from './fixtures.ts';

const config = loadConfig({}, { partitions: 2 });
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function readAlerts(transport: MemoryTransport): Promise<AlertEvent[]> {
  const serde = Serdes.Json<AlertEvent>();
  const out: AlertEvent[] = [];
  for (let p = 0; p < config.partitions; p++) {
    for await (const batch of transport.readPartition(config.topics.alerts, p, 0)) {
      for (const m of batch) out.push(serde.deserialize(config.topics.alerts, m.value));
    }
  }
  return out;
}

describe('alert stage restart (memory transport, exactly-once)', () => {
  it('a killed stage restarted from its changelog neither re-fires nor loses the RESOLVED', async () => {
    const broker = new MemoryTransport({ defaultPartitions: 2 });
    await broker.ensureTopics(
      [config.topics.metrics, config.topics.alerts].map((name) => ({ name, partitions: config.partitions })),
    );
    // 1 s range: the alert resolves as soon as its window ends (real wall clock here).
    const rules: AlertRuleSource = {
      list: async () => [rule({ window_seconds: 1, threshold: 10 })],
      watch: () => () => {},
    };
    const serdes = { metrics: Serdes.Json<MetricWindow>(), alerts: Serdes.Json<AlertEvent>() };

    const startStage = async (transport: MemoryTransport) => {
      const stage = buildAlertTopology(config, serdes, rules, undefined, { tickMs: 100 });
      await stage.start();
      const streams = new LogFlowStreams(stage.topology, {
        applicationId: 'alerts-restart',
        transport,
        processingGuarantee: 'exactly_once',
        instanceId: 'alert-0',
        commitIntervalMs: 50,
      });
      await streams.start();
      cleanups.push(async () => {
        await streams.close();
        await stage.stop();
      });
      return streams;
    };

    const first = broker.connection();
    await startStage(first);
    const producer = broker.producer();
    await producer.connect();
    // A window that ends ~8 s from now, so the test waits seconds, not up to a minute, for RESOLVED.
    const w = window('payment-service', Date.now() - MINUTE_MS + 8_000, { ERROR: 50 });
    await producer.send([
      { topic: config.topics.metrics, key: Buffer.from(w.service), value: serdes.metrics.serialize('', w) },
    ]);
    await waitFor(async () => (await readAlerts(broker)).length === 1, { what: 'FIRING' });
    first.kill();

    await startStage(broker.connection());
    // The restored state says "firing": the same window again must not fire a second time.
    await producer.send([
      {
        topic: config.topics.metrics,
        key: Buffer.from(w.service),
        value: serdes.metrics.serialize('', { ...w, version: 60, total: 60, counts: { ERROR: 60 } }),
      },
    ]);
    await waitFor(async () => (await readAlerts(broker)).length >= 2, {
      what: 'RESOLVED',
      timeoutMs: 30_000,
    });
    const events = await readAlerts(broker);
    expect(events.map((e) => e.state)).toEqual(['FIRING', 'RESOLVED']);
    expect(events[1].started_at).toBe(events[0].started_at);
    await producer.disconnect();
  }, 60_000);
});
