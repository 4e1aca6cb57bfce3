/**
 * End to end on the real services: logs-parsed → aggregate → logs-metrics → alert stage → alerts →
 * webhook connector → a local HTTP receiver; history through the AlertHistorySink.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { SqliteDeliveryLedger } from '../../../connectors/webhook/delivery-ledger.ts';
import { verifyWebhook } from '../../../connectors/webhook/signature.ts';
import { createWebhookConnector } from '../../../connectors/webhook/webhook-connector.ts';
import { buildAggregateTopology } from '../../../pipeline/aggregate/aggregate-topology.ts';
import { buildAlertTopology } from '../../../pipeline/alert/alert-topology.ts';
import type { AlertEvent, AlertHistorySink, AlertRuleSource } from '../../../pipeline/alert/types.ts';
import type { AlertRule } from '../../../storage/db/types.ts';
import { randomName } from '../../helpers/names.ts';
import { waitFor } from '../../helpers/wait-for.ts';
import { TestReceiver } from '../../unit/alert/webhook-receiver.ts';
import { parsedLog, pipelineFixture } from './pipeline-helpers.ts';

const SECRET = 'e2e-secret';

function paymentRule(url: string): AlertRule {
  return {
    id: 1,
    name: 'payment-service errors',
    description: null,
    service: 'payment-service',
    levels: ['ERROR'],
    condition: 'count_above',
    threshold: 50,
    recovery_threshold: null,
    // 1 s range: the value is the current minute's count, so the alert resolves when the minute
    // of the burst ends (at most ~1 min in this test) instead of a minute later.
    window_seconds: 1,
    for_seconds: 0,
    keep_firing_seconds: 0,
    severity: 'critical',
    labels: { team: 'payments' },
    enabled: true,
    targets: [{ url, format: 'json' }],
    created_at: new Date().toISOString(),
    updated_at: new Date().toISOString(),
  };
}

describe('alert pipeline on Kafka (aggregate → alert → webhook)', () => {
  it('a burst of ERRORs from payment-service fires once; the receiver gets one signed FIRING then one RESOLVED', async () => {
    const f = await pipelineFixture(3);
    const receiver = await new TestReceiver().start();
    onTestFinished(() => receiver.close());
    const rules: AlertRuleSource = { list: async () => [paymentRule(receiver.url)], watch: () => () => {} };
    const history: { state: string; fingerprint: string }[] = [];
    const sink: AlertHistorySink = {
      recordFiring: async (e) => void history.push({ state: e.state, fingerprint: e.fingerprint }),
      recordResolved: async (e) => void history.push({ state: e.state, fingerprint: e.fingerprint }),
    };

    await f.run(buildAggregateTopology(f.config, f.serdes), 'aggregate');
    const alertStage = buildAlertTopology(f.config, f.serdes, rules, sink);
    await alertStage.start(f.transport);
    onTestFinished(() => alertStage.stop());
    await f.run(alertStage.topology, 'alert');

    const dir = mkdtempSync(join(tmpdir(), 'lf-e2e-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const hooks = createWebhookConnector(
      { ...f.config, webhookSecret: SECRET, dataDir: dir },
      {
        transport: f.transport,
        serde: f.serdes.alerts,
        groupId: randomName('lf-e2e-hooks'),
        allowList: ['127.0.0.1'],
        ledger: new SqliteDeliveryLedger(join(dir, 'ledger.sqlite')),
      },
    );
    onTestFinished(() => hooks.stop());
    await hooks.start();

    // Background traffic, then the burst: 200 ERRORs from payment-service within a second.
    const now = Date.now();
    const logs = [
      ...Array.from({ length: 30 }, (_, i) =>
        parsedLog(i % 2 ? 'auth-service' : 'payment-service', 'INFO', now + i),
      ),
      ...Array.from({ length: 200 }, (_, i) => parsedLog('payment-service', 'ERROR', now + 100 + i)),
    ];
    await f.produceLogs(logs);

    await waitFor(() => receiver.accepted.length >= 1, { timeoutMs: 60_000, what: 'FIRING webhook' });
    await waitFor(() => receiver.accepted.length >= 2, { timeoutMs: 150_000, what: 'RESOLVED webhook' });
    // Give a duplicate every chance to show up: the alert stage ticks every second.
    await waitFor(() => history.length >= 2, { what: 'history records' });

    const bodies = receiver.accepted.map(
      (r) => JSON.parse(r.body) as { status: string; alert: AlertEvent & { id: string } },
    );
    expect(bodies.map((b) => b.status)).toEqual(['firing', 'resolved']);
    expect(receiver.requests).toHaveLength(2);
    for (const r of receiver.accepted) {
      expect(
        verifyWebhook(
          SECRET,
          {
            signature: r.headers['x-logflow-signature'] as string,
            timestamp: r.headers['x-logflow-timestamp'] as string,
          },
          r.body,
        ),
      ).toBe(true);
    }
    const [firing, resolved] = bodies;
    expect(firing.alert).toMatchObject({
      service: 'payment-service',
      rule_name: 'payment-service errors',
      threshold: 50,
    });
    expect(firing.alert.value).toBeGreaterThan(50);
    expect(resolved.alert.started_at).toBe(firing.alert.started_at);
    expect(resolved.alert.fingerprint).toBe(firing.alert.fingerprint);
    expect(history.map((h) => h.state)).toEqual(['FIRING', 'RESOLVED']);
    // and exactly these two events are on the alerts topic (transaction markers are not records)
    const states: string[] = [];
    for (let p = 0; p < f.config.partitions; p++) {
      for await (const batch of f.transport.readPartition(f.config.topics.alerts, p, 0)) {
        for (const m of batch)
          states.push((await f.serdes.alerts.deserialize(f.config.topics.alerts, m.value)).state);
      }
    }
    expect(states).toEqual(['FIRING', 'RESOLVED']);
  });
});
