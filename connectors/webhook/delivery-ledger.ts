/**
 * Which receivers already have which alert event. The connector consults it before every POST,
 * so a retry, a redelivered Kafka record or a restart never sends an event to a receiver twice.
 * Keyed by (event id, receiver URL); event id = `<fingerprint>:<state>:<started_at>`.
 *
 * A claim (owner + lease) marks who is POSTing an (event, receiver) right now, so two dispatchers
 * sharing a ledger — two owners of a partition during a rebalance, or a duplicate record in one
 * process — never POST it at the same time. The dispatcher claims before each attempt and
 * releases after recording its outcome; a crashed owner's claim lapses when its lease expires.
 *
 * `SqlDeliveryLedger` keeps it in a database through the repositories' `SqlClient` (the shared
 * PostgreSQL database of the distributed mode); `SqliteDeliveryLedger` is that in its own SQLite
 * file (the connector's data dir: one process, the embedded mode); `MemoryDeliveryLedger` is for
 * tests and benchmarks. All are Promise-based (PostgreSQL has to be); `close()` is idempotent.
 */
import Database from 'better-sqlite3';
import { LogFlowError } from '../../common/errors.ts';
import type { SqlClient } from '../../storage/db/sql-client.ts';
import { SqliteClient } from '../../storage/db/sqlite-client.ts';

export type DeliveryStatus = 'pending' | 'succeeded' | 'gave_up';

export interface DeliveryRecord {
  event_id: string;
  url: string;
  status: DeliveryStatus;
  attempts: number;
  /** Epoch ms of the first attempt: the give-up deadline counts from here, across restarts. */
  first_attempt_at: number;
  updated_at: number;
  last_error: string | null;
}

export interface DeliveryLedger {
  get(eventId: string, url: string): Promise<DeliveryRecord | undefined>;
  put(record: DeliveryRecord): Promise<void>;
  /**
   * Takes (or renews) the claim on (event, receiver) for `owner` for `leaseMs`, unless another
   * owner holds an unexpired one. Atomic: of concurrent claimants at most one gets `true`.
   */
  claim(eventId: string, url: string, owner: string, leaseMs: number): Promise<boolean>;
  /** Gives the claim up (only `owner`'s own; a claim taken over after its lease expired stays). */
  release(eventId: string, url: string, owner: string): Promise<void>;
  /** Forgets records last updated before `cutoff` (keeps the store small) and expired claims. */
  prune(cutoff: number): Promise<void>;
  close(): Promise<void>;
}

interface Claim {
  owner: string;
  leaseUntil: number;
}

const keyOf = (eventId: string, url: string) => `${eventId}\u0000${url}`;

export class MemoryDeliveryLedger implements DeliveryLedger {
  private readonly records = new Map<string, DeliveryRecord>();
  private readonly claims = new Map<string, Claim>();
  async get(eventId: string, url: string): Promise<DeliveryRecord | undefined> {
    const r = this.records.get(keyOf(eventId, url));
    return r ? { ...r } : undefined;
  }
  async put(record: DeliveryRecord): Promise<void> {
    const key = keyOf(record.event_id, record.url);
    // As in the SQL ledger: a finished record is never rewritten.
    const status = this.records.get(key)?.status;
    if (status !== undefined && status !== 'pending') return;
    this.records.set(key, { ...record });
  }
  async claim(eventId: string, url: string, owner: string, leaseMs: number): Promise<boolean> {
    const key = keyOf(eventId, url);
    const now = Date.now();
    const held = this.claims.get(key);
    if (held && held.owner !== owner && held.leaseUntil > now) return false;
    this.claims.set(key, { owner, leaseUntil: now + leaseMs });
    return true;
  }
  async release(eventId: string, url: string, owner: string): Promise<void> {
    const key = keyOf(eventId, url);
    if (this.claims.get(key)?.owner === owner) this.claims.delete(key);
  }
  async prune(cutoff: number): Promise<void> {
    for (const [k, r] of this.records) if (r.updated_at < cutoff) this.records.delete(k);
    const now = Date.now();
    for (const [k, c] of this.claims) if (c.leaseUntil <= now) this.claims.delete(k);
  }
  all(): DeliveryRecord[] {
    return [...this.records.values()].map((r) => ({ ...r }));
  }
  async close(): Promise<void> {}
}

/** A row as the databases return it (PostgreSQL gives BIGINT columns back as text). */
interface DeliveryRow {
  event_id: string;
  url: string;
  status: DeliveryStatus;
  attempts: number;
  first_attempt_at: number | string;
  updated_at: number | string;
  last_error: string | null;
  [column: string]: unknown;
}

/**
 * The database's own clock in epoch ms: leases in a database shared by several hosts must not
 * depend on how well those hosts' clocks agree.
 */
const NOW_MS: Record<SqlClient['dialect'], string> = {
  postgres: 'CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)',
  sqlite: "CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER)",
};

/**
 * The ledger in SQL, written once for both dialects through the repositories' `SqlClient`: the
 * shared PostgreSQL database of the distributed mode (`new SqlDeliveryLedger(new PgClient(pool))`,
 * migration 002_webhook_deliveries), and the SQLite file below.
 *
 * A claim is one INSERT … ON CONFLICT DO UPDATE … WHERE (ours, or the lease expired) … RETURNING:
 * the database serialises concurrent upserts of one key, so of two claimants exactly one gets the
 * row back. A finished record is never rewritten: a writer whose lease lapsed (it stalled while
 * another owner finished the delivery) must not turn `succeeded` back into `pending`.
 *
 * What this cannot prevent: an owner that crashes (or stalls past its lease) after the receiver
 * got the POST but before `succeeded` is written lets the next owner send it again once the lease
 * expires — at-least-once per receiver; receivers dedupe by the event id.
 */
export class SqlDeliveryLedger implements DeliveryLedger {
  private readonly now: string;

  constructor(private readonly sql: SqlClient) {
    this.now = NOW_MS[sql.dialect];
  }

  async get(eventId: string, url: string): Promise<DeliveryRecord | undefined> {
    const [row] = await this.sql.query<DeliveryRow>(
      `SELECT event_id, url, status, attempts, first_attempt_at, updated_at, last_error
       FROM webhook_deliveries WHERE event_id = ? AND url = ?`,
      [eventId, url],
    );
    if (!row) return undefined;
    return {
      event_id: row.event_id,
      url: row.url,
      status: row.status,
      attempts: row.attempts,
      first_attempt_at: Number(row.first_attempt_at),
      updated_at: Number(row.updated_at),
      last_error: row.last_error,
    };
  }

  async put(r: DeliveryRecord): Promise<void> {
    await this.sql.query(
      `INSERT INTO webhook_deliveries AS d
         (event_id, url, status, attempts, first_attempt_at, updated_at, last_error)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (event_id, url) DO UPDATE SET status = excluded.status, attempts = excluded.attempts,
         updated_at = excluded.updated_at, last_error = excluded.last_error
       WHERE d.status = 'pending'`,
      [r.event_id, r.url, r.status, r.attempts, r.first_attempt_at, r.updated_at, r.last_error],
    );
  }

  async claim(eventId: string, url: string, owner: string, leaseMs: number): Promise<boolean> {
    const rows = await this.sql.query(
      `INSERT INTO webhook_delivery_claims AS c (event_id, url, owner, lease_until)
       VALUES (?, ?, ?, ${this.now} + ?)
       ON CONFLICT (event_id, url) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until
       WHERE c.owner = excluded.owner OR c.lease_until <= ${this.now}
       RETURNING owner`,
      [eventId, url, owner, leaseMs],
    );
    return rows.length === 1;
  }

  async release(eventId: string, url: string, owner: string): Promise<void> {
    await this.sql.query('DELETE FROM webhook_delivery_claims WHERE event_id = ? AND url = ? AND owner = ?', [
      eventId,
      url,
      owner,
    ]);
  }

  async prune(cutoff: number): Promise<void> {
    await this.sql.query('DELETE FROM webhook_deliveries WHERE updated_at < ?', [cutoff]);
    await this.sql.query(`DELETE FROM webhook_delivery_claims WHERE lease_until <= ${this.now}`);
  }

  /** The pool or file belongs to whoever opened it (a PostgreSQL pool is ctx.db()'s). */
  async close(): Promise<void> {}
}

function openLedgerFile(file: string): Database.Database {
  try {
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.exec(`CREATE TABLE IF NOT EXISTS webhook_deliveries (
      event_id TEXT NOT NULL, url TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL,
      first_attempt_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, last_error TEXT,
      PRIMARY KEY (event_id, url))`);
    // A table of its own (not columns of webhook_deliveries) so files written before claims existed open unchanged.
    db.exec(`CREATE TABLE IF NOT EXISTS webhook_delivery_claims (
      event_id TEXT NOT NULL, url TEXT NOT NULL, owner TEXT NOT NULL, lease_until INTEGER NOT NULL,
      PRIMARY KEY (event_id, url))`);
    return db;
  } catch (err) {
    throw new LogFlowError('LF_ERR_STATE_STORE', `Cannot open the webhook ledger ${file}`, { cause: err });
  }
}

/** The ledger in its own SQLite file (the connector's data dir: one process, the embedded mode). */
export class SqliteDeliveryLedger extends SqlDeliveryLedger {
  private readonly db: Database.Database;
  private closed = false;

  constructor(file: string) {
    const db = openLedgerFile(file);
    super(new SqliteClient(db));
    this.db = db;
  }

  all(): DeliveryRecord[] {
    return this.db
      .prepare(
        `SELECT event_id, url, status, attempts, first_attempt_at, updated_at, last_error
         FROM webhook_deliveries ORDER BY event_id, url`,
      )
      .all() as DeliveryRecord[];
  }

  override async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }
}
