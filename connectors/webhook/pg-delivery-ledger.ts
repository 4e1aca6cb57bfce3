/**
 * The delivery ledger in the shared PostgreSQL database (the distributed mode, migration
 * 002_webhook_deliveries): every webhook process of the consumer group sees the same deliveries,
 * so the new owner of a partition after a rebalance skips receivers the previous owner already
 * served instead of sending them the redelivered events again.
 *
 * Claims are rows of `webhook_delivery_claims` taken with one INSERT … ON CONFLICT DO UPDATE …
 * WHERE (ours, or the lease expired) … RETURNING: PostgreSQL serialises concurrent upserts of one
 * key, so of two claimants exactly one gets the row back. Leases run on the database clock
 * (clock_timestamp()), so clock skew between hosts does not matter.
 *
 * What this cannot prevent: an owner that crashes (or stalls past its lease) after the receiver
 * got the POST but before `succeeded` is written lets the next owner send it again once the lease
 * expires. Delivery is at-least-once per receiver, as with Alertmanager; receivers dedupe by the
 * event id the payload carries (`alert.id`, also the `X-LogFlow-Event-Id` header).
 *
 * The pool belongs to the database handle (ctx.db()); `close()` leaves it open.
 */
import type pg from 'pg';
import type { DeliveryLedger, DeliveryRecord, DeliveryStatus } from './delivery-ledger.ts';

type Queryable = Pick<pg.Pool, 'query'>;

interface DeliveryRow {
  event_id: string;
  url: string;
  status: DeliveryStatus;
  attempts: number;
  first_attempt_at: string; // BIGINT comes back as text
  updated_at: string;
  last_error: string | null;
}

export class PgDeliveryLedger implements DeliveryLedger {
  constructor(private readonly pool: Queryable) {}

  async get(eventId: string, url: string): Promise<DeliveryRecord | undefined> {
    const { rows } = await this.pool.query<DeliveryRow>(
      `SELECT event_id, url, status, attempts, first_attempt_at, updated_at, last_error
       FROM webhook_deliveries WHERE event_id = $1 AND url = $2`,
      [eventId, url],
    );
    const row = rows[0];
    if (!row) return undefined;
    return {
      ...row,
      first_attempt_at: Number(row.first_attempt_at),
      updated_at: Number(row.updated_at),
    };
  }

  async put(r: DeliveryRecord): Promise<void> {
    // A finished record is never rewritten: a writer whose lease lapsed (it stalled while another
    // owner finished the delivery) must not turn `succeeded` back into `pending`.
    await this.pool.query(
      `INSERT INTO webhook_deliveries AS d
         (event_id, url, status, attempts, first_attempt_at, updated_at, last_error)
       VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (event_id, url) DO UPDATE SET status = excluded.status, attempts = excluded.attempts,
         updated_at = excluded.updated_at, last_error = excluded.last_error
       WHERE d.status = 'pending'`,
      [r.event_id, r.url, r.status, r.attempts, r.first_attempt_at, r.updated_at, r.last_error],
    );
  }

  async claim(eventId: string, url: string, owner: string, leaseMs: number): Promise<boolean> {
    const { rows } = await this.pool.query(
      `INSERT INTO webhook_delivery_claims AS c (event_id, url, owner, lease_until)
       VALUES ($1, $2, $3, clock_timestamp() + $4 * interval '1 millisecond')
       ON CONFLICT (event_id, url) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until
       WHERE c.owner = excluded.owner OR c.lease_until <= clock_timestamp()
       RETURNING owner`,
      [eventId, url, owner, leaseMs],
    );
    return rows.length === 1;
  }

  async release(eventId: string, url: string, owner: string): Promise<void> {
    await this.pool.query(
      'DELETE FROM webhook_delivery_claims WHERE event_id = $1 AND url = $2 AND owner = $3',
      [eventId, url, owner],
    );
  }

  async prune(cutoff: number): Promise<void> {
    await this.pool.query('DELETE FROM webhook_deliveries WHERE updated_at < $1', [cutoff]);
    await this.pool.query('DELETE FROM webhook_delivery_claims WHERE lease_until <= clock_timestamp()');
  }

  async close(): Promise<void> {}
}
