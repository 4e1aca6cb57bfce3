import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { type DeliveryRecord, MemoryDeliveryLedger } from '../../../connectors/webhook/delivery-ledger.ts';
import { backoffDelay, WebhookDispatcher } from '../../../connectors/webhook/dispatcher.ts';
import { signWebhook, verifyWebhook } from '../../../connectors/webhook/signature.ts';
import { embeddedIPv4, TargetGuard } from '../../../connectors/webhook/ssrf-guard.ts';
import { waitFor } from '../../helpers/wait-for.ts';
import { alertEvent, T0 } from './fixtures.ts';
import { TestReceiver } from './webhook-receiver.ts';

const SECRET = 'test-secret';

/** A series' value (0 when absent), read from the registry as /metrics would show it. */
async function metricValue(
  registry: Registry,
  name: string,
  labels: Record<string, string> = {},
  series = name, // e.g. `<histogram>_count`
) {
  const metric = registry.getSingleMetric(name);
  if (!metric) return 0;
  const { values } = await metric.get();
  const hit = values.find(
    (v) =>
      ((v as { metricName?: string }).metricName ?? name) === series &&
      Object.entries(labels).every(([k, x]) => v.labels[k] === x),
  );
  return hit?.value ?? 0;
}

const receivers: TestReceiver[] = [];
const dispatchers: WebhookDispatcher[] = [];
afterEach(async () => {
  for (const d of dispatchers.splice(0)) d.stop();
  for (const r of receivers.splice(0)) await r.close();
});

async function receiver(): Promise<TestReceiver> {
  const r = await new TestReceiver().start();
  receivers.push(r);
  return r;
}

function dispatcher(ledger = new MemoryDeliveryLedger(), retry = {}, registry?: Registry): WebhookDispatcher {
  const d = new WebhookDispatcher({
    registry,
    secret: SECRET,
    guard: new TargetGuard(['127.0.0.1']),
    ledger,
    retry: { baseDelayMs: 5, maxDelayMs: 20, giveUpAfterMs: 60_000, timeoutMs: 2000, ...retry },
  });
  dispatchers.push(d);
  return d;
}

describe('webhook signature', () => {
  it('is sha256=<hex HMAC of "<timestamp>.<body>"> and verifies only unchanged', () => {
    const sig = signWebhook(SECRET, 1_700_000_000, '{"a":1}');
    expect(sig).toMatch(/^sha256=[0-9a-f]{64}$/);
    const ok = { signature: sig, timestamp: '1700000000' };
    expect(verifyWebhook(SECRET, ok, '{"a":1}', { nowSeconds: 1_700_000_010 })).toBe(true);
    expect(verifyWebhook(SECRET, ok, '{"a":2}', { nowSeconds: 1_700_000_010 })).toBe(false);
    expect(verifyWebhook('other', ok, '{"a":1}', { nowSeconds: 1_700_000_010 })).toBe(false);
    expect(
      verifyWebhook(SECRET, { ...ok, timestamp: '1700000001' }, '{"a":1}', { nowSeconds: 1_700_000_010 }),
    ).toBe(false);
    expect(verifyWebhook(SECRET, ok, '{"a":1}', { nowSeconds: 1_700_001_000 })).toBe(false); // replay too old
  });
});

describe('SSRF guard', () => {
  const guard = new TargetGuard();

  it.each([
    '127.0.0.1',
    '10.1.2.3',
    '172.16.0.1',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '::1',
    '::',
    'fe80::1',
    'fd00::1',
    'fc00::abcd',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:169.254.169.254',
    '64:ff9b::a00:1',
    '0:0:0:0:0:ffff:c0a8:0101',
  ])('refuses %s', (ip) => {
    expect(guard.isForbidden(ip)).toBe(true);
  });

  it.each(['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('allows public %s', (ip) => {
    expect(guard.isForbidden(ip)).toBe(false);
  });

  it('finds IPv4 inside mapped IPv6 forms', () => {
    expect(embeddedIPv4('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(embeddedIPv4('::FFFF:7F00:0001')).toBe('127.0.0.1');
    expect(embeddedIPv4('2606:4700::1111')).toBeNull();
  });

  it('checks every resolved address of a name, and the scheme', async () => {
    await expect(guard.assertTargetAllowed('http://localhost:8080/x')).rejects.toMatchObject({
      code: 'LF_ERR_WEBHOOK_TARGET_FORBIDDEN',
    });
    await expect(guard.assertTargetAllowed('http://[::ffff:127.0.0.1]/x')).rejects.toMatchObject({
      code: 'LF_ERR_WEBHOOK_TARGET_FORBIDDEN',
    });
    await expect(guard.assertTargetAllowed('file:///etc/passwd')).rejects.toThrow(/only http/);
    await expect(guard.assertTargetAllowed('http://user:pw@8.8.8.8/')).rejects.toThrow(/credentials/);
    await expect(guard.assertTargetAllowed('https://8.8.8.8/hook')).resolves.toBeUndefined();
  });

  it('refuses at connect time too (DNS rebinding): the request lookup re-checks', async () => {
    const err = await new Promise<unknown>((resolve) =>
      guard.guardedLookup('localhost', { all: true }, (e) => resolve(e)),
    );
    expect(err).toMatchObject({ code: 'LF_ERR_WEBHOOK_TARGET_FORBIDDEN' });
    const ok = await new Promise<unknown>((resolve) =>
      new TargetGuard(['127.0.0.1', '::1']).guardedLookup('localhost', { all: false }, (e, address) =>
        resolve(e ?? address),
      ),
    );
    expect(ok).toMatch(/^(127\.0\.0\.1|::1)$/);
  });

  it('lets an allow-list open exactly what it names', () => {
    const g = new TargetGuard(['127.0.0.1', '10.0.0.0/8']);
    expect(g.isForbidden('127.0.0.1')).toBe(false);
    expect(g.isForbidden('::ffff:127.0.0.1')).toBe(false);
    expect(g.isForbidden('127.0.0.2')).toBe(true);
    expect(g.isForbidden('10.9.9.9')).toBe(false);
    expect(g.isForbidden('192.168.0.1')).toBe(true);
    expect(() => new TargetGuard(['not-an-ip'])).toThrow(/allow-list/);
  });

  it('refuses a loopback receiver without the allow-list, and never connects to it', async () => {
    const r = await receiver();
    const ledger = new MemoryDeliveryLedger();
    const registry = new Registry();
    const d = new WebhookDispatcher({ secret: SECRET, guard: new TargetGuard(), ledger, registry });
    dispatchers.push(d);
    expect(await d.dispatch(alertEvent({ targets: [{ url: r.url, format: 'json' }] }))).toBe(true);
    expect(r.requests).toHaveLength(0);
    expect(await metricValue(registry, 'logflow_webhook_deliveries_total', { result: 'refused' })).toBe(1);
    expect(await metricValue(registry, 'logflow_webhook_deliveries_total', { result: 'gave_up' })).toBe(0);
    expect(ledger.all()).toMatchObject([{ status: 'gave_up', attempts: 1 }]);
    expect(ledger.all()[0].last_error).toMatch(/LF_ERR|refused/);
  });
});

describe('webhook dispatcher', () => {
  it('POSTs a signed JSON payload with status and the alert', async () => {
    const r = await receiver();
    await dispatcher().dispatch(alertEvent({ targets: [{ url: r.url, format: 'json' }] }));
    expect(r.requests).toHaveLength(1);
    const [req] = r.requests;
    expect(req.headers['content-type']).toBe('application/json');
    expect(
      verifyWebhook(
        SECRET,
        {
          signature: req.headers['x-logflow-signature'] as string,
          timestamp: req.headers['x-logflow-timestamp'] as string,
        },
        req.body,
      ),
    ).toBe(true);
    const payload = JSON.parse(req.body);
    expect(payload).toMatchObject({
      version: 1,
      status: 'firing',
      alert: {
        id: `abcdef0123456789:FIRING:${T0}`,
        rule_name: 'payment errors',
        service: 'payment-service',
        value: 42,
        started_at: new Date(T0).toISOString(),
        resolved_at: null,
      },
    });
    expect(req.headers['x-logflow-event-id']).toBe(payload.alert.id);
  });

  it('sends a Slack-compatible body to slack targets', async () => {
    const r = await receiver();
    await dispatcher().dispatch(
      alertEvent({ state: 'RESOLVED', resolved_at: T0 + 1000, targets: [{ url: r.url, format: 'slack' }] }),
    );
    const body = JSON.parse(r.requests[0].body);
    expect(body.text).toContain('[RESOLVED] payment errors');
    expect(body.blocks[0].type).toBe('section');
  });

  it('retries a failing receiver with backoff without re-sending to the one that succeeded', async () => {
    const good = await receiver();
    const flaky = await receiver();
    flaky.respond = ({ attempt }) => (attempt <= 3 ? 503 : 200);
    const ledger = new MemoryDeliveryLedger();
    const registry = new Registry();
    const done = await dispatcher(ledger, {}, registry).dispatch(
      alertEvent({
        targets: [
          { url: good.url, format: 'json' },
          { url: flaky.url, format: 'json' },
        ],
      }),
    );
    expect(done).toBe(true);
    expect(good.requests).toHaveLength(1);
    expect(flaky.requests.map((q) => q.status)).toEqual([503, 503, 503, 200]);
    expect(flaky.requests.map((q) => q.headers['x-logflow-attempt'])).toEqual(['1', '2', '3', '4']);
    const deliveries = 'logflow_webhook_deliveries_total';
    expect(await metricValue(registry, deliveries, { result: 'delivered' })).toBe(2);
    expect(await metricValue(registry, deliveries, { result: 'retried' })).toBe(3);
    const seconds = 'logflow_webhook_delivery_seconds';
    expect(await metricValue(registry, seconds, { outcome: 'ok' }, `${seconds}_count`)).toBe(2);
    expect(await metricValue(registry, seconds, { outcome: 'failed' }, `${seconds}_count`)).toBe(3);
    // the same event again (a redelivered record): nobody gets it twice
    await dispatcher(ledger).dispatch(
      alertEvent({
        targets: [
          { url: good.url, format: 'json' },
          { url: flaky.url, format: 'json' },
        ],
      }),
    );
    expect(good.accepted).toHaveLength(1);
    expect(flaky.accepted).toHaveLength(1);
  });

  it('gives up after the bounded time and reports it once; 4xx gives up at once', async () => {
    const down = await receiver();
    down.respond = () => 500;
    const rejecting = await receiver();
    rejecting.respond = () => 400;
    const ledger = new MemoryDeliveryLedger();
    const reports: string[] = [];
    const codes: string[] = [];
    const registry = new Registry();
    const d = new WebhookDispatcher({
      secret: SECRET,
      guard: new TargetGuard(['127.0.0.1']),
      ledger,
      retry: { baseDelayMs: 5, maxDelayMs: 10, giveUpAfterMs: 100, timeoutMs: 2000 },
      registry,
      onGiveUp: (r) => {
        reports.push(r.url);
        codes.push(r.error.code);
      },
    });
    dispatchers.push(d);
    await d.dispatch(
      alertEvent({
        targets: [
          { url: down.url, format: 'json' },
          { url: rejecting.url, format: 'json' },
        ],
      }),
    );
    expect(down.requests.length).toBeGreaterThan(1);
    expect(rejecting.requests).toHaveLength(1);
    expect(reports.sort()).toEqual([down.url, rejecting.url].sort());
    expect(codes).toEqual(['LF_ERR_WEBHOOK_DELIVERY', 'LF_ERR_WEBHOOK_DELIVERY']);
    expect(ledger.all().map((r) => r.status)).toEqual(['gave_up', 'gave_up']);
    const deliveries = 'logflow_webhook_deliveries_total';
    expect(await metricValue(registry, deliveries, { result: 'gave_up' })).toBe(2);
    expect(await metricValue(registry, deliveries, { result: 'retried' })).toBe(down.requests.length - 1);
    expect(await metricValue(registry, deliveries, { result: 'delivered' })).toBe(0);
  });

  it('sends nothing for silenced events and each URL once with default targets', async () => {
    const r = await receiver();
    const d = new WebhookDispatcher({
      secret: SECRET,
      guard: new TargetGuard(['127.0.0.1']),
      ledger: new MemoryDeliveryLedger(),
      defaultTargets: [{ url: r.url, format: 'json' }],
    });
    dispatchers.push(d);
    await d.dispatch(alertEvent({ silenced: true, targets: [{ url: r.url, format: 'json' }] }));
    expect(r.requests).toHaveLength(0);
    await d.dispatch(alertEvent({ targets: [{ url: r.url, format: 'json' }] }));
    expect(r.requests).toHaveLength(1);
  });

  it('stop() ends pending retries without marking them done', async () => {
    const down = await receiver();
    down.respond = () => 503;
    const ledger = new MemoryDeliveryLedger();
    const d = dispatcher(ledger, { baseDelayMs: 60_000, maxDelayMs: 60_000 });
    const pending = d.dispatch(alertEvent({ targets: [{ url: down.url, format: 'json' }] }));
    await waitFor(() => down.requests.length === 1);
    d.stop();
    expect(await pending).toBe(false);
    expect(ledger.all()[0]).toMatchObject({ status: 'pending', attempts: 1 });
  });

  it('stop() during an attempt leaves no wait behind: the dispatch ends at once', async () => {
    const down = await receiver();
    down.respond = () => 503;
    let d: WebhookDispatcher | undefined;
    // Stops the dispatcher right after the failed attempt is recorded, before its retry wait begins.
    class StoppingLedger extends MemoryDeliveryLedger {
      override async put(record: DeliveryRecord): Promise<void> {
        await super.put(record);
        if (record.attempts === 1) d?.stop();
      }
    }
    const ledger = new StoppingLedger();
    d = dispatcher(ledger, { baseDelayMs: 60_000, maxDelayMs: 60_000 });
    // Without the check in sleep() this waits out the 60 s retry delay (past the test's timeout).
    expect(await d.dispatch(alertEvent({ targets: [{ url: down.url, format: 'json' }] }))).toBe(false);
    expect(ledger.all()[0]).toMatchObject({ status: 'pending', attempts: 1 });
  });

  it('two dispatchers sharing a ledger: one POSTs, the other waits for the claim and then skips', async () => {
    const r = await receiver();
    const ledger = new MemoryDeliveryLedger();
    const a = new WebhookDispatcher({
      secret: SECRET,
      guard: new TargetGuard(['127.0.0.1']),
      ledger,
      claimRetryMs: 10,
    });
    const b = new WebhookDispatcher({
      secret: SECRET,
      guard: new TargetGuard(['127.0.0.1']),
      ledger,
      claimRetryMs: 10,
    });
    dispatchers.push(a, b);
    const evt = alertEvent({ targets: [{ url: r.url, format: 'json' }] });
    expect(await Promise.all([a.dispatch(evt), b.dispatch(evt)])).toEqual([true, true]);
    expect(r.requests).toHaveLength(1);
    expect(ledger.all()).toMatchObject([{ status: 'succeeded', attempts: 1 }]);
  });

  it('memory ledger claims: exclusive until released or expired, renewable by the owner', async () => {
    const ledger = new MemoryDeliveryLedger();
    expect(await ledger.claim('e', 'u', 'a', 60_000)).toBe(true);
    expect(await ledger.claim('e', 'u', 'b', 60_000)).toBe(false);
    expect(await ledger.claim('e', 'u', 'a', 60_000)).toBe(true);
    await ledger.release('e', 'u', 'b'); // not b's: stays
    expect(await ledger.claim('e', 'u', 'b', 60_000)).toBe(false);
    await ledger.release('e', 'u', 'a');
    expect(await ledger.claim('e', 'u', 'b', 1)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await ledger.claim('e', 'u', 'a', 60_000)).toBe(true);
  });

  it('backoff doubles up to the cap', () => {
    const p = { baseDelayMs: 1000, maxDelayMs: 60_000 };
    expect([1, 2, 3, 4, 7, 20].map((a) => backoffDelay(a, p))).toEqual([
      1000, 2000, 4000, 8000, 60_000, 60_000,
    ]);
  });
});
