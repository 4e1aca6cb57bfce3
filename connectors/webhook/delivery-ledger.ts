/**
 * Which receivers already have which alert event. The connector consults it before every POST,
 * so a retry, a redelivered Kafka record or a restart never sends an event to a receiver twice.
 * Keyed by (event id, receiver URL); event id = `<fingerprint>:<state>:<started_at>`.
 *
 * `SqliteDeliveryLedger` persists in a file (the connector's data dir); `MemoryDeliveryLedger` is
 * for tests and the embedded mode without a data dir. Both are synchronous; `close()` is idempotent.
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
  get(eventId: string, url: string): DeliveryRecord | undefined;
  put(record: DeliveryRecord): void;
  /** Forgets records last updated before `cutoff` (keeps the file small). */
  prune(cutoff: number): void;
  close(): void;
}

export class MemoryDeliveryLedger implements DeliveryLedger {
  private readonly records = new Map<string, DeliveryRecord>();
  get(eventId: string, url: string): DeliveryRecord | undefined {
    const r = this.records.get(`${eventId}\u0000${url}`);
    return r ? { ...r } : undefined;
  }
  put(record: DeliveryRecord): void {
    this.records.set(`${record.event_id}\u0000${record.url}`, { ...record });
  }
  prune(cutoff: number): void {
    for (const [k, r] of this.records) if (r.updated_at < cutoff) this.records.delete(k);
  }
  all(): DeliveryRecord[] {
    return [...this.records.values()].map((r) => ({ ...r }));
  }
  close(): void {}
}

export class SqliteDeliveryLedger implements DeliveryLedger {
  private readonly db: Database.Database;
  private readonly getStmt: Database.Statement;
  private readonly putStmt: Database.Statement;
  private closed = false;

  constructor(file: string) {
    try {
      this.db = new Database(file);
      this.db.pragma('journal_mode = WAL');
      this.db.exec(`CREATE TABLE IF NOT EXISTS webhook_deliveries (
        event_id TEXT NOT NULL, url TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL,
        first_attempt_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, last_error TEXT,
        PRIMARY KEY (event_id, url))`);
    } catch (err) {
      throw new LogFlowError('LF_ERR_STATE_STORE', `Cannot open the webhook ledger ${file}`, { cause: err });
    }
    this.getStmt = this.db.prepare('SELECT * FROM webhook_deliveries WHERE event_id = ? AND url = ?');
    this.putStmt = this.db.prepare(
      `INSERT INTO webhook_deliveries VALUES (@event_id, @url, @status, @attempts, @first_attempt_at, @updated_at, @last_error)
       ON CONFLICT (event_id, url) DO UPDATE SET status = excluded.status, attempts = excluded.attempts,
         updated_at = excluded.updated_at, last_error = excluded.last_error`,
    );
  }

  get(eventId: string, url: string): DeliveryRecord | undefined {
    return this.getStmt.get(eventId, url) as DeliveryRecord | undefined;
  }

  put(record: DeliveryRecord): void {
    this.putStmt.run(record);
  }

  prune(cutoff: number): void {
    this.db.prepare('DELETE FROM webhook_deliveries WHERE updated_at < ?').run(cutoff);
  }

  all(): DeliveryRecord[] {
    return this.db
      .prepare('SELECT * FROM webhook_deliveries ORDER BY event_id, url')
      .all() as DeliveryRecord[];
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }
}
