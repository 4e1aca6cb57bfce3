import type Sqlite from 'better-sqlite3';
import { createLogger } from '../../common/logger.ts';
import { mapDbError, type Row, type RuleChangeFeed, type SqlClient } from './sql-client.ts';
import type { AlertRuleChange } from './types.ts';

const log = createLogger('db.sqlite');

/** better-sqlite3 binds neither booleans nor undefined. */
function bindable(params: unknown[]): unknown[] {
  return params.map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : p === undefined ? null : p));
}

export class SqliteClient implements SqlClient {
  readonly dialect = 'sqlite' as const;
  private readonly statements = new Map<string, Sqlite.Statement>();

  constructor(readonly db: Sqlite.Database) {}

  async query<T extends Row = Row>(sql: string, params: unknown[] = []): Promise<T[]> {
    return this.querySync<T>(sql, params);
  }

  querySync<T extends Row = Row>(sql: string, params: unknown[] = []): T[] {
    try {
      let stmt = this.statements.get(sql);
      if (!stmt) {
        stmt = this.db.prepare(sql);
        this.statements.set(sql, stmt);
      }
      const args = bindable(params);
      if (stmt.reader) return stmt.all(...args) as T[];
      stmt.run(...args);
      return [];
    } catch (err) {
      throw mapDbError(err);
    }
  }
}

const OPS: Record<string, AlertRuleChange['op']> = {
  insert: 'created',
  update: 'updated',
  delete: 'deleted',
};

/**
 * Rule changes on SQLite: triggers append to alert_rule_changes; writes in this process poll it
 * at once (so watchers hear about them before the write's promise resolves), and a timer polls
 * for writes by other processes sharing the file.
 */
export class SqliteRuleChangeFeed implements RuleChangeFeed {
  private readonly listeners = new Set<(change: AlertRuleChange) => void>();
  private lastSeq = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly client: SqliteClient,
    private readonly pollIntervalMs = 1000,
  ) {}

  watch(onChange: (change: AlertRuleChange) => void): () => Promise<void> {
    if (this.listeners.size === 0) {
      this.lastSeq = this.maxSeq();
      this.timer = setInterval(() => this.poll(), this.pollIntervalMs);
      this.timer.unref();
    }
    this.listeners.add(onChange);
    return async () => {
      this.listeners.delete(onChange);
      if (this.listeners.size === 0) this.stopTimer();
    };
  }

  afterWrite(): void {
    if (this.listeners.size > 0) this.poll();
  }

  async close(): Promise<void> {
    this.listeners.clear();
    this.stopTimer();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private maxSeq(): number {
    const [row] = this.client.querySync<{ seq: number | null }>(
      'SELECT max(seq) AS seq FROM alert_rule_changes',
    );
    return row?.seq ?? 0;
  }

  private poll(): void {
    let rows: { seq: number; op: string; rule_id: number }[];
    try {
      rows = this.client.querySync(
        'SELECT seq, op, rule_id FROM alert_rule_changes WHERE seq > ? ORDER BY seq',
        [this.lastSeq],
      );
    } catch (err) {
      log.warn({ err }, 'polling alert rule changes failed');
      return;
    }
    for (const row of rows) {
      this.lastSeq = row.seq;
      const change: AlertRuleChange = { op: OPS[row.op] ?? 'reload', id: row.rule_id };
      for (const listener of this.listeners) {
        try {
          listener(change);
        } catch (err) {
          log.error({ err }, 'alert rule watcher threw');
        }
      }
    }
    // The log only needs to cover what a slow poller in another process may not have read yet.
    if (rows.length > 0 && this.lastSeq % 1000 === 0) {
      this.client.querySync('DELETE FROM alert_rule_changes WHERE seq <= ?', [this.lastSeq - 10_000]);
    }
  }
}
