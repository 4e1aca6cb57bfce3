/**
 * The webhook delivery ledger in the real PostgreSQL (a random database, migrated from empty): two
 * webhook processes — two database handles with their own pools — share deliveries and claims.
 * An unreachable server fails `beforeAll` (never a skip), as in the other PostgreSQL tests.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SqlDeliveryLedger } from '../../../connectors/webhook/delivery-ledger.ts';
import { WebhookDispatcher } from '../../../connectors/webhook/dispatcher.ts';
import { TargetGuard } from '../../../connectors/webhook/ssrf-guard.ts';
import { type AlertEvent, alertEventId } from '../../../pipeline/alert/types.ts';
import { PgClient } from '../../../storage/db/pg-client.ts';
import { openPostgresDatabase, type PostgresDatabase } from '../../../storage/db/postgres-database.ts';
import { alertEvent, T0 } from '../../unit/alert/fixtures.ts';
import { TestReceiver } from '../../unit/alert/webhook-receiver.ts';
import { randomDatabase } from '../api/pg-helpers.ts';

const SECRET = 'test-secret';

let seq = 0;
/** A distinct event per test (the database is shared by the whole file), to one receiver. */
function event(url: string): AlertEvent {
  seq += 1;
  return alertEvent({ started_at: T0 + seq, emitted_at: T0 + seq, targets: [{ url, format: 'json' }] });
}

describe('SqlDeliveryLedger on the real PostgreSQL (two processes sharing one database)', () => {
  const target = randomDatabase();
  let dbA: PostgresDatabase;
  let dbB: PostgresDatabase;
  let ledgerA: SqlDeliveryLedger;
  let ledgerB: SqlDeliveryLedger;
  const cleanups: (() => unknown)[] = [];

  beforeAll(async () => {
    dbA = await openPostgresDatabase(target.url);
    dbB = await openPostgresDatabase(target.url);
    ledgerA = new SqlDeliveryLedger(new PgClient(dbA.pool));
    ledgerB = new SqlDeliveryLedger(new PgClient(dbB.pool));
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });
  afterAll(async () => {
    await dbA?.close();
    await dbB?.close();
    await target.drop();
  });

  async function receiver(delayMs = 0): Promise<TestReceiver> {
    const r = await new TestReceiver().start();
    r.delayMs = delayMs;
    cleanups.push(() => r.close());
    return r;
  }

  function dispatcher(ledger: SqlDeliveryLedger, owner: string, claimLeaseMs?: number): WebhookDispatcher {
    const d = new WebhookDispatcher({
      secret: SECRET,
      guard: new TargetGuard(['127.0.0.1']),
      ledger,
      owner,
      claimLeaseMs,
      claimRetryMs: 50,
      retry: { baseDelayMs: 5, maxDelayMs: 20, giveUpAfterMs: 60_000, timeoutMs: 5000 },
    });
    cleanups.push(() => d.stop());
    return d;
  }

  it('migration 002 created the ledger tables', async () => {
    const { rows } = await dbA.pool.query('SELECT version FROM schema_migrations ORDER BY version');
    expect(rows.map((r) => r.version)).toEqual(['001', '002']);
    const tables = await dbA.pool.query(
      "SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'webhook_%' ORDER BY 1",
    );
    expect(tables.rows.map((r) => r.table_name)).toEqual(['webhook_deliveries', 'webhook_delivery_claims']);
  });

  it('an event delivered through one ledger is skipped through the other (after a rebalance)', async () => {
    const r = await receiver();
    const evt = event(r.url);
    expect(await dispatcher(ledgerA, 'host-a').dispatch(evt)).toBe(true);
    expect(r.requests.map((q) => q.body)).toHaveLength(1);
    const eventId = JSON.parse(r.requests.map((q) => q.body)[0]).alert.id;
    expect(await ledgerB.get(eventId, r.url)).toMatchObject({
      event_id: eventId,
      url: r.url,
      status: 'succeeded',
      attempts: 1,
      last_error: null,
    });
    // The new owner of the partition gets the uncommitted record again: nothing is sent.
    expect(await dispatcher(ledgerB, 'host-b').dispatch(evt)).toBe(true);
    expect(r.requests.map((q) => q.body)).toHaveLength(1);
  });

  it('two concurrent claimants of one (event, receiver): exactly one POST reaches the receiver', async () => {
    const r = await receiver(300); // a slow answer: the second claimant tries while the first POSTs
    const evt = event(r.url);
    const a = dispatcher(ledgerA, 'host-a');
    const b = dispatcher(ledgerB, 'host-b');
    expect(await Promise.all([a.dispatch(evt), b.dispatch(evt)])).toEqual([true, true]);
    expect(r.requests.map((q) => q.body)).toHaveLength(1);
    const eventId = JSON.parse(r.requests.map((q) => q.body)[0]).alert.id;
    expect(await ledgerA.get(eventId, r.url)).toMatchObject({ status: 'succeeded', attempts: 1 });
    // Released after the outcome was recorded: no claim row is left behind.
    const { rows } = await dbA.pool.query('SELECT * FROM webhook_delivery_claims WHERE event_id = $1', [
      eventId,
    ]);
    expect(rows).toEqual([]);
  });

  it('claim() is atomic: of 8 simultaneous claimants on two pools exactly one wins', async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        (i % 2 ? ledgerA : ledgerB).claim('race-event', 'http://receiver/hook', `owner-${i}`, 60_000),
      ),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = `owner-${results.indexOf(true)}`;
    const { rows } = await dbA.pool.query(
      "SELECT owner FROM webhook_delivery_claims WHERE event_id = 'race-event'",
    );
    expect(rows).toEqual([{ owner: winner }]);
  });

  it('an expired lease can be re-claimed; a live one only by its owner', async () => {
    expect(await ledgerA.claim('lease-event', 'http://receiver/hook', 'host-a', 300)).toBe(true);
    expect(await ledgerB.claim('lease-event', 'http://receiver/hook', 'host-b', 60_000)).toBe(false);
    expect(await ledgerA.claim('lease-event', 'http://receiver/hook', 'host-a', 300)).toBe(true); // renewal
    await new Promise((resolve) => setTimeout(resolve, 400));
    expect(await ledgerB.claim('lease-event', 'http://receiver/hook', 'host-b', 60_000)).toBe(true);
    expect(await ledgerA.claim('lease-event', 'http://receiver/hook', 'host-a', 300)).toBe(false);
    await ledgerA.release('lease-event', 'http://receiver/hook', 'host-a'); // not A's any more: kept
    expect(await ledgerA.claim('lease-event', 'http://receiver/hook', 'host-a', 300)).toBe(false);
  });

  it("a crashed owner's claim blocks the receiver only until its lease expires, then it is delivered", async () => {
    const r = await receiver();
    const evt = event(r.url);
    const eventId = alertEventId(evt);
    // host-a took the claim and died before POSTing (or recording): no release ever comes.
    expect(await ledgerA.claim(eventId, r.url, 'host-a', 800)).toBe(true);
    const started = Date.now();
    expect(await dispatcher(ledgerB, 'host-b').dispatch(evt)).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(700);
    expect(r.requests.map((q) => q.body)).toHaveLength(1);
    expect(JSON.parse(r.requests.map((q) => q.body)[0]).alert.id).toBe(eventId);
    expect(await ledgerA.get(eventId, r.url)).toMatchObject({ status: 'succeeded', attempts: 1 });
  });

  it('a finished record is never rewritten by a late writer, and prune() forgets old records', async () => {
    const base = {
      event_id: 'late-event',
      url: 'http://receiver/hook',
      attempts: 1,
      first_attempt_at: 1000,
      updated_at: 1000,
      last_error: null,
    };
    await ledgerA.put({ ...base, status: 'succeeded' });
    await ledgerB.put({ ...base, status: 'pending', attempts: 2, last_error: 'HTTP 503' });
    expect(await ledgerB.get('late-event', base.url)).toEqual({ ...base, status: 'succeeded' });
    await ledgerA.prune(2000);
    expect(await ledgerB.get('late-event', base.url)).toBeUndefined();
  });
});
