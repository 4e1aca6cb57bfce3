import type pg from 'pg';
import { createLogger } from '../../common/logger.ts';
import { mapDbError, type Row, type RuleChangeFeed, type SqlClient } from './sql-client.ts';
import type { AlertRuleChange } from './types.ts';

const log = createLogger('db.postgres');

/** `?` → `$1, $2, …` (the repositories never put a literal `?` in their SQL). */
export function toPgPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

export class PgClient implements SqlClient {
  readonly dialect = 'postgres' as const;
  private readonly translated = new Map<string, string>();

  constructor(readonly pool: pg.Pool) {}

  async query<T extends Row = Row>(sql: string, params: unknown[] = []): Promise<T[]> {
    let text = this.translated.get(sql);
    if (!text) {
      text = toPgPlaceholders(sql);
      this.translated.set(sql, text);
    }
    try {
      const result = await this.pool.query(text, params);
      return result.rows as T[];
    } catch (err) {
      throw mapDbError(err);
    }
  }
}

export const RULES_CHANNEL = 'logflow_alert_rules';

/**
 * Rule changes on PostgreSQL: a trigger NOTIFYs every committed change; one dedicated connection
 * LISTENs. Once LISTEN is in place (first time and after every reconnect) watchers get `reload`,
 * since changes committed before it were not announced.
 */
export class PgRuleChangeFeed implements RuleChangeFeed {
  private readonly listeners = new Set<(change: AlertRuleChange) => void>();
  private client: pg.PoolClient | undefined;
  private connecting: Promise<void> | undefined;
  private closed = false;
  private retryTimer: NodeJS.Timeout | undefined;

  constructor(private readonly pool: pg.Pool) {}

  watch(onChange: (change: AlertRuleChange) => void): () => Promise<void> {
    this.listeners.add(onChange);
    if (!this.client && !this.connecting) this.connecting = this.connect();
    return async () => {
      this.listeners.delete(onChange);
      if (this.listeners.size === 0) await this.release();
    };
  }

  /** Resolves once the LISTEN is in place (tests wait for it before writing). */
  async ready(): Promise<void> {
    await this.connecting;
  }

  afterWrite(): void {}

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    await this.release();
  }

  private emit(change: AlertRuleChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (err) {
        log.error({ err }, 'alert rule watcher threw');
      }
    }
  }

  private async connect(): Promise<void> {
    try {
      const client = await this.pool.connect();
      client.on('notification', (msg) => {
        if (msg.channel !== RULES_CHANNEL || !msg.payload) return;
        try {
          const { op, id } = JSON.parse(msg.payload) as { op: string; id: number | string };
          const mapped = op === 'insert' ? 'created' : op === 'update' ? 'updated' : 'deleted';
          this.emit({ op: mapped, id: Number(id) });
        } catch (err) {
          log.warn({ err, payload: msg.payload }, 'bad alert rule notification');
        }
      });
      client.on('error', (err) => {
        log.warn({ err }, 'alert rule LISTEN connection failed; reconnecting');
        this.client?.release(true);
        this.client = undefined;
        this.scheduleReconnect();
      });
      await client.query(`LISTEN ${RULES_CHANNEL}`);
      if (this.closed || this.listeners.size === 0) {
        client.release();
        return;
      }
      this.client = client;
      // Changes committed before LISTEN took effect (or while reconnecting) were not announced:
      // watchers re-read everything once.
      this.emit({ op: 'reload', id: null });
    } catch (err) {
      log.warn({ err }, 'could not LISTEN for alert rule changes; retrying');
      this.scheduleReconnect();
    } finally {
      this.connecting = undefined;
    }
  }

  private scheduleReconnect(): void {
    if (this.closed || this.listeners.size === 0 || this.retryTimer) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.connecting = this.connect();
    }, 1000);
    this.retryTimer.unref();
  }

  private async release(): Promise<void> {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    await this.connecting;
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    try {
      await client.query(`UNLISTEN ${RULES_CHANNEL}`);
      client.release();
    } catch {
      client.release(true);
    }
  }
}
