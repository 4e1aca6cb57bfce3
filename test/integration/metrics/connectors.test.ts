/**
 * The metrics materialiser and the webhook connector on the real services: Kafka (random topics),
 * the Schema Registry (Avro logs-metrics / alerts), Redis (random key prefix).
 */

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { describe, expect, it, onTestFinished } from 'vitest';
import { loadConfig } from '../../../common/config.ts';
import { createRedisMaterialiser } from '../../../connectors/redis/materialiser.ts';
import { SqliteDeliveryLedger } from '../../../connectors/webhook/delivery-ledger.ts';
import { verifyWebhook } from '../../../connectors/webhook/signature.ts';
import { createWebhookConnector } from '../../../connectors/webhook/webhook-connector.ts';
import type { AlertEvent } from '../../../pipeline/alert/types.ts';
import { RedisMetricsView } from '../../../storage/metrics/redis-view.ts';
import type { MetricWindow } from '../../../storage/metrics/types.ts';
import { MINUTE_MS } from '../../../storage/metrics/windows.ts';
import { AvroSerde } from '../../../topology/serdes/index.ts';
import { randomName } from '../../helpers/names.ts';
import { waitFor } from '../../helpers/wait-for.ts';
import { TestReceiver } from '../../unit/alert/webhook-receiver.ts';
import { createTopic, kafkaTransport, schemaRegistry } from '../topology/kafka-helpers.ts';

const base = loadConfig();

function window(service: string, start: number, counts: Record<string, number>): MetricWindow {
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  return {
    service,
    window_start: start,
    window_end: start + MINUTE_MS,
    counts,
    total,
    error_rate: 0,
    version: total,
    resolution: '1m',
  };
}

describe('redis materialiser on Kafka + Redis', () => {
  it('materialises Avro windows, and rebuilds by itself after the keys are flushed', async () => {
    const transport = kafkaTransport();
    const topic = await createTopic(transport, 3, { prefix: 'lf-metrics' });
    const serde = new AvroSerde<MetricWindow>({ registry: schemaRegistry(), schema: 'logs-metrics' });
    const view = new RedisMetricsView({ url: base.redisUrl, prefix: `${randomName('lftest')}:` });
    onTestFinished(async () => {
      await view.clear();
      await view.close();
    });
    const start = Date.now() - 10 * MINUTE_MS - (Date.now() % MINUTE_MS);
    const producer = transport.producer();
    await producer.connect();
    onTestFinished(() => producer.disconnect());
    const windows = [
      window('payment-service', start, { ERROR: 2 }),
      window('payment-service', start, { ERROR: 5 }),
      window('auth-service', start + MINUTE_MS, { INFO: 7 }),
      window('user-service', start + 2 * MINUTE_MS, { WARN: 1 }),
    ];
    await producer.send(
      await Promise.all(
        windows.map(async (w) => ({
          topic,
          key: Buffer.from(w.service),
          value: await serde.serialize(topic, w),
        })),
      ),
    );
    const materialiser = createRedisMaterialiser(
      { ...base, topics: { ...base.topics, metrics: topic } },
      { transport, view, serde, groupId: randomName('lf-mat'), watchIntervalMs: 200 },
    );
    onTestFinished(() => materialiser.stop());
    await materialiser.start();
    const expected = {
      'payment-service': { total: 5, counts: { ERROR: 5 } },
      'auth-service': { total: 7, counts: { INFO: 7 } },
      'user-service': { total: 1, counts: { WARN: 1 } },
    };
    const sameAsExpected = async () => {
      const got = await view.byService(start, start + 5 * MINUTE_MS);
      return Object.keys(expected).every((s) => got[s]?.total === expected[s as keyof typeof expected].total);
    };
    await waitFor(sameAsExpected, { what: 'materialised windows' });
    expect(await view.byService(start, start + 5 * MINUTE_MS)).toEqual(expected);

    // "Redis flushed": every key of this view disappears (FLUSHALL would hit other tests' keys).
    const raw = new Redis(base.redisUrl);
    onTestFinished(() => raw.disconnect());
    const keys = await raw.keys(`${view.prefix}*`);
    expect(keys.length).toBeGreaterThan(0);
    const writtenBeforeFlush = materialiser.written;
    await raw.del(...keys);
    // The watcher may rebuild within its 200 ms interval, before any read here could see the view
    // empty: what proves the rebuild is that windows were written again and the view is whole.
    await waitFor(async () => materialiser.written > writtenBeforeFlush && (await sameAsExpected()), {
      what: 'rebuild after flush',
    });
    expect(await view.byService(start, start + 5 * MINUTE_MS)).toEqual(expected);
  });
});

describe('webhook connector on Kafka', () => {
  it('a receiver failing for a while gets the signed event later, exactly once, across a restart', async () => {
    const transport = kafkaTransport();
    const topic = await createTopic(transport, 2, { prefix: 'lf-alerts' });
    const serde = new AvroSerde<AlertEvent>({ registry: schemaRegistry(), schema: 'alerts' });
    const receiver = await new TestReceiver().start();
    onTestFinished(() => receiver.close());
    const ok = await new TestReceiver().start();
    onTestFinished(() => ok.close());
    let failing = true;
    receiver.respond = () => (failing ? 500 : 200);
    const dir = mkdtempSync(join(tmpdir(), 'lf-hooks-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const startedAt = Date.now();
    const event: AlertEvent = {
      rule_id: 1,
      rule_name: 'payment errors',
      state: 'FIRING',
      value: 50,
      threshold: 10,
      window_seconds: 60,
      service: 'payment-service',
      labels: { team: 'payments' },
      severity: 'critical',
      started_at: startedAt,
      resolved_at: null,
      fingerprint: 'aaaabbbbccccdddd',
      emitted_at: startedAt,
      condition: 'count_above',
      reason: 'threshold',
      silenced: false,
      targets: [
        { url: receiver.url, format: 'json' },
        { url: ok.url, format: 'json' },
      ],
    };
    const producer = transport.producer();
    await producer.connect();
    onTestFinished(() => producer.disconnect());
    await producer.send([
      { topic, key: Buffer.from(event.fingerprint), value: await serde.serialize(topic, event) },
    ]);

    const config = {
      ...base,
      webhookSecret: 'it-secret',
      topics: { ...base.topics, alerts: topic },
      dataDir: dir,
    };
    const group = randomName('lf-hooks');
    const make = () =>
      createWebhookConnector(config, {
        transport,
        serde,
        groupId: group,
        allowList: ['127.0.0.1'],
        ledger: new SqliteDeliveryLedger(join(dir, 'ledger.sqlite')),
        retry: { baseDelayMs: 50, maxDelayMs: 200, giveUpAfterMs: 120_000 },
      });
    const first = make();
    await first.start();
    await waitFor(() => receiver.requests.length >= 2 && ok.accepted.length === 1, { what: 'retries' });
    await first.stop();

    failing = false;
    const second = make();
    onTestFinished(() => second.stop());
    await second.start();
    await waitFor(() => receiver.accepted.length === 1, { what: 'late delivery' });
    await waitFor(async () => (await transport.committedOffsets(group, topic)).some((o) => o.offset === 1), {
      what: 'commit after delivery',
    });
    expect(ok.accepted).toHaveLength(1);
    expect(receiver.accepted).toHaveLength(1);
    const [delivered] = receiver.accepted;
    expect(
      verifyWebhook(
        'it-secret',
        {
          signature: delivered.headers['x-logflow-signature'] as string,
          timestamp: delivered.headers['x-logflow-timestamp'] as string,
        },
        delivered.body,
      ),
    ).toBe(true);
    expect(JSON.parse(delivered.body)).toMatchObject({
      version: 1,
      status: 'firing',
      alert: { service: 'payment-service', value: 50 },
    });
  });
});
