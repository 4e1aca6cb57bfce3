import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../common/config.ts';
import { MemoryDeliveryLedger } from '../../../connectors/webhook/delivery-ledger.ts';
import {
  createWebhookConnector,
  type WebhookConnector,
} from '../../../connectors/webhook/webhook-connector.ts';
import type { AlertEvent } from '../../../pipeline/alert/types.ts';
import { MemoryTransport, Serdes } from '../../../topology/index.ts';
import { waitFor } from '../../helpers/wait-for.ts';
import { T0 } from './fixtures.ts';
import { TestReceiver } from './webhook-receiver.ts';

const config = loadConfig({}, { webhookSecret: 's3cret', webhookAllowList: ['127.0.0.1'] });
const serde = Serdes.Json<AlertEvent>();
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function alert(state: 'FIRING' | 'RESOLVED', url: string, startedAt = T0): AlertEvent {
  return {
    rule_id: 1,
    rule_name: 'r',
    state,
    value: 1,
    threshold: 0,
    window_seconds: 60,
    service: 'payment-service',
    labels: {},
    severity: 'critical',
    started_at: startedAt,
    resolved_at: state === 'RESOLVED' ? startedAt + 1000 : null,
    fingerprint: 'f00d',
    emitted_at: startedAt,
    condition: 'count_above',
    reason: 'threshold',
    silenced: false,
    targets: [{ url, format: 'json' }],
  };
}

async function setup() {
  const transport = new MemoryTransport();
  await transport.ensureTopics([{ name: config.topics.alerts, partitions: 1 }]);
  const receiver = await new TestReceiver().start();
  cleanups.push(async () => {
    await receiver.close();
    await transport.close();
  });
  const send = async (events: AlertEvent[]) => {
    const p = transport.producer();
    await p.connect();
    await p.send(
      events.map((e) => ({
        topic: config.topics.alerts,
        key: Buffer.from(e.fingerprint),
        value: serde.serialize('', e),
      })),
    );
    await p.disconnect();
  };
  return { transport, receiver, send };
}

function connector(
  transport: MemoryTransport,
  ledger: MemoryDeliveryLedger,
  registry?: Registry,
): WebhookConnector {
  const c = createWebhookConnector(config, {
    registry,
    transport,
    serde,
    ledger,
    groupId: 'hooks',
    retry: { baseDelayMs: 10, maxDelayMs: 50, giveUpAfterMs: 60_000 },
  });
  cleanups.push(() => c.stop());
  return c;
}

describe('webhook connector (memory transport)', () => {
  it('delivers FIRING then RESOLVED and commits once both are done', async () => {
    const { transport, receiver, send } = await setup();
    await send(
      [alert('FIRING', ''), alert('RESOLVED', '')].map((e) => ({
        ...e,
        targets: [{ url: receiver.url, format: 'json' }],
      })),
    );
    const registry = new Registry();
    const c = connector(transport, new MemoryDeliveryLedger(), registry);
    await c.start();
    await waitFor(() => receiver.accepted.length === 2);
    // The connector hands its registry to the dispatcher: both deliveries are counted there.
    const deliveries = await registry.getSingleMetric('logflow_webhook_deliveries_total')?.get();
    expect(deliveries?.values).toEqual([{ labels: { result: 'delivered' }, value: 2 }]);
    expect(receiver.accepted.map((r) => JSON.parse(r.body).status)).toEqual(['firing', 'resolved']);
    await waitFor(
      async () => (await transport.committedOffsets('hooks', config.topics.alerts))[0]?.offset === 2,
    );
  });

  it('holds the offset while a receiver fails, delivers later exactly once, and never re-sends after a restart', async () => {
    const { transport, receiver, send } = await setup();
    let failing = true;
    receiver.respond = () => (failing ? 503 : 200);
    await send([alert('FIRING', receiver.url)]);
    const ledger = new MemoryDeliveryLedger();
    const first = connector(transport, ledger);
    await first.start();
    await waitFor(() => receiver.requests.length >= 2);
    expect(
      (await transport.committedOffsets('hooks', config.topics.alerts))[0]?.offset ?? 0,
    ).toBeLessThanOrEqual(0);
    await first.stop(); // restart while still failing: the record stays uncommitted
    failing = false;
    const second = connector(transport, ledger);
    await second.start();
    await waitFor(() => receiver.accepted.length === 1);
    await waitFor(
      async () => (await transport.committedOffsets('hooks', config.topics.alerts))[0]?.offset === 1,
    );
    // The same event produced again (a duplicate from upstream): the ledger suppresses it.
    await send([alert('FIRING', receiver.url)]);
    await waitFor(
      async () => (await transport.committedOffsets('hooks', config.topics.alerts))[0]?.offset === 2,
    );
    expect(receiver.accepted).toHaveLength(1);
  });

  it('refuses to start without a signing secret', () => {
    expect(() =>
      createWebhookConnector(loadConfig({}), {
        transport: new MemoryTransport(),
        serde,
        ledger: new MemoryDeliveryLedger(),
      }),
    ).toThrow(/secret/);
  });
});
