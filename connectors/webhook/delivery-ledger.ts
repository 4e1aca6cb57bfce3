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
 * `SqliteDeliveryLedger` persists in a file (the connector's data dir: one process, the embedded
 * mode); `PgDeliveryLedger` (pg-delivery-ledger.ts) in the shared PostgreSQL database of the
 * distributed mode; `MemoryDeliveryLedger` is for tests and benchmarks. All are Promise-based
 * (the PostgreSQL one has to be); `close()` is idempotent.
 */
import Database from 'better-sqlite3';
import { LogFlowError } from '../../common/errors.ts';

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

export class MemoryDeliveryLedger implements DeliveryLedger {
  private readonly records = new Map<string, DeliveryRecord>();
  private readonly claims = new Map<string, Claim>();
  async get(eventId: string, url: string): Promise<DeliveryRecord | undefined> {
    const r = this.records.get(`${eventId}\u0000${url}`);
    return r ? { ...r } : undefined;
  }
  async put(record: DeliveryRecord): Promise<void> {
    this.records.set(`${record.event_id}\u0000${record.url}`, { ...record });
  }
  async claim(eventId: string, url: string, owner: string, leaseMs: number): Promise<boolean> {
    const key = `${eventId}\u0000${url}`;
    const now = Date.now();
    const held = this.claims.get(key);
    if (held && held.owner !== owner && held.leaseUntil > now) return false;
    this.claims.set(key, { owner, leaseUntil: now + leaseMs });
    return true;
  }
  async release(eventId: string, url: string, owner: string): Promise<void> {
    const key = `${eventId}\u0000${url}`;
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

export class SqliteDeliveryLedger implements DeliveryLedger {
  private readonly db: Database.Database;
  private readonly getStmt: Database.Statement;
  private readonly putStmt: Database.Statement;
  private readonly claimStmt: Database.Statement;
  private readonly releaseStmt: Database.Statement;
  private closed = false;

  constructor(file: string) {
    try {
      this.db = new Database(file);
      this.db.pragma('journal_mode = WAL');
      this.db.exec(`CREATE TABLE IF NOT EXISTS webhook_deliveries (
        event_id TEXT NOT NULL, url TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL,
        first_attempt_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, last_error TEXT,
        PRIMARY KEY (event_id, url))`);
      // A table of its own (not columns of webhook_deliveries) so files written before claims existed open unchanged.
      this.db.exec(`CREATE TABLE IF NOT EXISTS webhook_delivery_claims (
        event_id TEXT NOT NULL, url TEXT NOT NULL, owner TEXT NOT NULL, lease_until INTEGER NOT NULL,
        PRIMARY KEY (event_id, url))`);
    } catch (err) {
      throw new LogFlowError('LF_ERR_STATE_STORE', `Cannot open the webhook ledger ${file}`, { cause: err });
    }
    this.getStmt = this.db.prepare(
      `SELECT event_id, url, status, attempts, first_attempt_at, updated_at, last_error
       FROM webhook_deliveries WHERE event_id = ? AND url = ?`,
    );
    this.putStmt = this.db.prepare(
      `INSERT INTO webhook_deliveries VALUES (@event_id, @url, @status, @attempts, @first_attempt_at, @updated_at, @last_error)
       ON CONFLICT (event_id, url) DO UPDATE SET status = excluded.status, attempts = excluded.attempts,
         updated_at = excluded.updated_at, last_error = excluded.last_error`,
    );
    this.claimStmt = this.db.prepare(
      `INSERT INTO webhook_delivery_claims AS c VALUES (@event_id, @url, @owner, @lease_until)
       ON CONFLICT (event_id, url) DO UPDATE SET owner = excluded.owner, lease_until = excluded.lease_until
       WHERE c.owner = excluded.owner OR c.lease_until <= @now
       RETURNING owner`,
    );
    this.releaseStmt = this.db.prepare(
      'DELETE FROM webhook_delivery_claims WHERE event_id = ? AND url = ? AND owner = ?',
    );
  }

  async get(eventId: string, url: string): Promise<DeliveryRecord | undefined> {
    return this.getStmt.get(eventId, url) as DeliveryRecord | undefined;
  }

  async put(record: DeliveryRecord): Promise<void> {
    this.putStmt.run(record);
  }

  async claim(eventId: string, url: string, owner: string, leaseMs: number): Promise<boolean> {
    const now = Date.now();
    const row = this.claimStmt.get({ event_id: eventId, url, owner, lease_until: now + leaseMs, now });
    return row !== undefined;
  }

  async release(eventId: string, url: string, owner: string): Promise<void> {
    this.releaseStmt.run(eventId, url, owner);
  }

  async prune(cutoff: number): Promise<void> {
    this.db.prepare('DELETE FROM webhook_deliveries WHERE updated_at < ?').run(cutoff);
    this.db.prepare('DELETE FROM webhook_delivery_claims WHERE lease_until <= ?').run(Date.now());
  }

  all(): DeliveryRecord[] {
    return this.db
      .prepare(
        `SELECT event_id, url, status, attempts, first_attempt_at, updated_at, last_error
         FROM webhook_deliveries ORDER BY event_id, url`,
      )
      .all() as DeliveryRecord[];
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }
}
