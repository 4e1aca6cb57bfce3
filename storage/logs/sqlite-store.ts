/**
 * The embedded search store: SQLite (better-sqlite3 12) in WAL mode, durable in one file.
 * Logs live in a plain table with indexed columns (timestamp, level, service); message text is
 * indexed by a contentless FTS5 table whose terms are those of Elasticsearch's standard analyzer
 * (see standard-tokenizer.ts), so both stores match the same words.
 *
 * Lifecycle: `SqliteLogStore.open()` creates or upgrades the file; every method may be called
 * concurrently from the event loop (better-sqlite3 is synchronous, so calls never interleave);
 * `close()` is idempotent and after it every other method throws.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { LogFlowError } from '../../common/errors.ts';
import {
  bucketKey,
  checkHistogramSpan,
  ERROR_LEVELS,
  encodeCursor,
  errorKey,
  isErrorLevel,
  LEVEL_BUCKETS,
  type NormalizedQuery,
  normalizeQuery,
  SERVICE_BUCKETS,
  tieBreaker,
} from './search-query.ts';
import { standardTokens } from './standard-tokenizer.ts';
import type {
  HistogramBucket,
  LogDocument,
  LogSearchQuery,
  LogSearchResult,
  LogSearchStore,
  ParsedLog,
} from './types.ts';

const SCHEMA_VERSION = 2;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS logs (
  rid INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  ts INTEGER NOT NULL,
  level TEXT NOT NULL,
  service TEXT NOT NULL,
  message TEXT NOT NULL,
  hostname TEXT NOT NULL,
  file TEXT NOT NULL,
  extra TEXT,
  ingested_at INTEGER NOT NULL,
  error_key TEXT,
  tb INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS logs_ts_tb ON logs (ts DESC, tb ASC);
CREATE INDEX IF NOT EXISTS logs_level_ts ON logs (level, ts);
CREATE INDEX IF NOT EXISTS logs_service_ts ON logs (service, ts);
-- Contentless (the text is in logs.message), detail=none (terms are ANDed, never phrases), and a
-- tokenizer that only splits on spaces: the terms are computed in JS to match Elasticsearch.
CREATE VIRTUAL TABLE IF NOT EXISTS logs_fts USING fts5(
  terms, content='', contentless_delete=1, detail=none,
  tokenize="unicode61 remove_diacritics 0 categories 'L* M* N* P* S* C*'"
);
`;

const COLUMNS = 'id, ts, level, service, message, hostname, file, extra, ingested_at';

interface Row {
  id: string;
  ts: number;
  level: string;
  service: string;
  message: string;
  hostname: string;
  file: string;
  extra: string | null;
  ingested_at: number;
  tb: number;
}

export interface SqliteLogStoreOptions {
  /** The database file (created with its directory). `:memory:` for throwaway stores. */
  path: string;
  /** `NORMAL` (default) survives a process crash; `FULL` also a power loss, at a cost per batch. */
  synchronous?: 'NORMAL' | 'FULL';
}

/** A SQL condition with its parameters. */
interface Where {
  sql: string;
  params: unknown[];
}

export class SqliteLogStore implements LogSearchStore {
  readonly kind = 'sqlite' as const;
  readonly path: string;
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly insertBatch: (logs: ParsedLog[]) => void;
  private closed = false;

  static open(options: SqliteLogStoreOptions): SqliteLogStore {
    return new SqliteLogStore(options);
  }

  private constructor(options: SqliteLogStoreOptions) {
    this.path = options.path;
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    try {
      this.db = new Database(options.path);
      this.db.pragma('journal_mode = WAL');
      this.db.pragma(`synchronous = ${options.synchronous ?? 'NORMAL'}`);
      this.db.pragma('busy_timeout = 5000');
      const version = this.db.pragma('user_version', { simple: true }) as number;
      if (version > SCHEMA_VERSION) {
        throw new LogFlowError(
          'LF_ERR_STATE_STORE',
          `${options.path} was written by a newer LogFlow (schema ${version} > ${SCHEMA_VERSION})`,
        );
      }
      if (version === 1) this.upgradeFrom1();
      this.db.exec(SCHEMA);
      this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
    } catch (err) {
      if (err instanceof LogFlowError) throw err;
      throw new LogFlowError('LF_ERR_STATE_STORE', `cannot open the search store at ${options.path}`, {
        cause: err,
      });
    }
    const insert = this.db.prepare(
      `INSERT OR IGNORE INTO logs (${COLUMNS}, error_key, tb) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const insertTerms = this.db.prepare('INSERT INTO logs_fts (rowid, terms) VALUES (?, ?)');
    this.insertBatch = this.db.transaction((logs: ParsedLog[]) => {
      for (const log of logs) {
        const extra =
          Object.keys(log.extra_fields ?? {}).length > 0 ? JSON.stringify(log.extra_fields) : null;
        const result = insert.run(
          log.id,
          log.timestamp,
          log.level,
          log.service,
          log.message,
          log.source.hostname,
          log.source.file,
          extra,
          log.ingested_at,
          isErrorLevel(log.level) ? errorKey(log.message) : null,
          tieBreaker(log.id),
        );
        // Only a new row gets terms: a replayed id changed nothing above.
        if (result.changes === 1)
          insertTerms.run(result.lastInsertRowid, standardTokens(log.message).join(' '));
      }
    });
  }

  /** Schema 1 ordered ties by id; schema 2 by the tie-breaker column (as Elasticsearch does). */
  private upgradeFrom1(): void {
    this.db.function('lf_tie_breaker', { deterministic: true }, (id: unknown) => tieBreaker(String(id)));
    this.db.transaction(() => {
      this.db.exec('ALTER TABLE logs ADD COLUMN tb INTEGER NOT NULL DEFAULT 0');
      this.db.exec('UPDATE logs SET tb = lf_tie_breaker(id)');
      this.db.exec('DROP INDEX IF EXISTS logs_ts_id');
    })();
  }

  async index(logs: ParsedLog[]): Promise<void> {
    this.assertOpen();
    if (logs.length > 0) this.insertBatch(logs);
  }

  async search(query: LogSearchQuery): Promise<LogSearchResult> {
    const q = normalizeQuery(query);
    const where = this.whereOf(q);
    const empty: LogSearchResult = { total: 0, logs: [], aggregations: { by_level: {}, by_service: {} } };
    if (!where) return empty;

    const groups = this.all<{ level: string; service: string; c: number }>(
      `SELECT level, service, count(*) AS c FROM logs WHERE ${where.sql} GROUP BY level, service`,
      where.params,
    );
    let total = 0;
    const levels = new Map<string, number>();
    const services = new Map<string, number>();
    for (const g of groups) {
      total += g.c;
      levels.set(g.level, (levels.get(g.level) ?? 0) + g.c);
      services.set(g.service, (services.get(g.service) ?? 0) + g.c);
    }

    let logs: LogDocument[] = [];
    let nextCursor: string | undefined;
    if (q.limit > 0 && total > 0) {
      const page = q.after
        ? and(where, {
            sql: '(ts < ? OR (ts = ? AND tb > ?))',
            params: [q.after.timestamp, q.after.timestamp, q.after.tieBreaker],
          })
        : where;
      const rows = this.all<Row>(
        `SELECT ${COLUMNS}, tb FROM logs WHERE ${page.sql} ORDER BY ts DESC, tb ASC LIMIT ? OFFSET ?`,
        [...page.params, q.limit + 1, q.offset],
      );
      if (rows.length > q.limit) {
        rows.length = q.limit;
        const last = rows[rows.length - 1];
        nextCursor = encodeCursor({ timestamp: last.ts, tieBreaker: last.tb });
      }
      logs = rows.map(toDocument);
    }
    return {
      total,
      logs,
      aggregations: {
        by_level: topCounts(levels, LEVEL_BUCKETS),
        by_service: topCounts(services, SERVICE_BUCKETS),
      },
      ...(nextCursor ? { next_cursor: nextCursor } : {}),
    };
  }

  async get(id: string): Promise<LogDocument | null> {
    const row = this.get1<Row>(`SELECT ${COLUMNS} FROM logs WHERE id = ?`, [id]);
    return row ? toDocument(row) : null;
  }

  async recent(limit: number, level?: string): Promise<LogDocument[]> {
    const q = normalizeQuery({ limit, offset: 0, levels: level ? [level] : [] });
    const where = this.whereOf(q) ?? { sql: '1', params: [] };
    return this.all<Row>(`SELECT ${COLUMNS} FROM logs WHERE ${where.sql} ORDER BY ts DESC, tb ASC LIMIT ?`, [
      ...where.params,
      q.limit,
    ]).map(toDocument);
  }

  async histogram(
    query: Omit<LogSearchQuery, 'limit' | 'offset' | 'cursor'>,
    intervalMs: number,
  ): Promise<HistogramBucket[]> {
    const q = normalizeQuery({ ...query, limit: 0, offset: 0 });
    const bounded = q.startTime !== undefined && q.endTime !== undefined;
    if (bounded) checkHistogramSpan(intervalMs, q.startTime!, q.endTime!);
    else checkHistogramSpan(intervalMs, 0, 0);
    const where = this.whereOf(q);
    const rows = where
      ? this.all<{ k: number; level: string; c: number }>(
          `SELECT ts - (((ts % ?) + ?) % ?) AS k, level, count(*) AS c FROM logs WHERE ${where.sql} GROUP BY k, level`,
          [intervalMs, intervalMs, intervalMs, ...where.params],
        )
      : [];
    const buckets = new Map<number, HistogramBucket>();
    for (const r of rows) {
      let b = buckets.get(r.k);
      if (!b) {
        b = { key: r.k, count: 0, by_level: {} };
        buckets.set(r.k, b);
      }
      b.count += r.c;
      b.by_level[r.level] = r.c;
    }
    if (!bounded && buckets.size === 0) return [];
    const keys = [...buckets.keys()];
    const from = bounded ? bucketKey(q.startTime!, intervalMs) : Math.min(...keys);
    const to = bounded ? bucketKey(q.endTime!, intervalMs) : Math.max(...keys);
    checkHistogramSpan(intervalMs, from, to);
    const out: HistogramBucket[] = [];
    for (let key = from; key <= to; key += intervalMs)
      out.push(buckets.get(key) ?? { key, count: 0, by_level: {} });
    return out;
  }

  async topErrors(
    service: string,
    startTime: number,
    endTime: number,
    size: number,
  ): Promise<{ message: string; count: number }[]> {
    return this.all<{ message: string; count: number }>(
      `SELECT error_key AS message, count(*) AS count FROM logs
       WHERE service = ? AND level IN (${ERROR_LEVELS.map(() => '?').join(', ')}) AND ts >= ? AND ts <= ?
         AND error_key IS NOT NULL
       GROUP BY error_key ORDER BY count DESC, error_key ASC LIMIT ?`,
      [service, ...ERROR_LEVELS, startTime, endTime, size],
    );
  }

  async count(): Promise<number> {
    return this.get1<{ c: number }>('SELECT count(*) AS c FROM logs', [])!.c;
  }

  async deleteOlderThan(cutoffMs: number): Promise<void> {
    this.assertOpen();
    // In slices, so a large retention sweep never holds the write lock for long.
    const slice = this.db.transaction((): number => {
      const rids = this.all<{ rid: number }>('SELECT rid FROM logs WHERE ts < ? LIMIT 5000', [cutoffMs]).map(
        (r) => r.rid,
      );
      if (rids.length === 0) return 0;
      const list = rids.join(',');
      this.db.exec(`DELETE FROM logs_fts WHERE rowid IN (${list}); DELETE FROM logs WHERE rid IN (${list});`);
      return rids.length;
    });
    while (slice() > 0) {
      await new Promise((r) => setImmediate(r));
    }
  }

  async ping(): Promise<boolean> {
    if (this.closed) return false;
    try {
      return this.db.prepare('SELECT 1 AS ok').get() !== undefined;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.statements.clear();
    this.db.close();
  }

  /** The filter part of a query (no cursor); null when the text can match nothing. */
  private whereOf(q: NormalizedQuery): Where | null {
    const parts: Where[] = [];
    if (q.text !== undefined) {
      const terms = standardTokens(q.text);
      // Like Elasticsearch's match query: text with no words in it matches nothing.
      if (terms.length === 0) return null;
      // Every term is quoted: whatever the user typed is a word, never FTS5 syntax.
      const match = terms.map((t) => `"${t.replaceAll('"', '""')}"`).join(' ');
      parts.push({ sql: 'rid IN (SELECT rowid FROM logs_fts WHERE logs_fts MATCH ?)', params: [match] });
    }
    if (q.services.length > 0) {
      parts.push({ sql: `service IN (${q.services.map(() => '?').join(', ')})`, params: q.services });
    }
    if (q.levels.length > 0) {
      parts.push({ sql: `level IN (${q.levels.map(() => '?').join(', ')})`, params: q.levels });
    }
    if (q.startTime !== undefined) parts.push({ sql: 'ts >= ?', params: [q.startTime] });
    if (q.endTime !== undefined) parts.push({ sql: 'ts <= ?', params: [q.endTime] });
    return parts.reduce(and, { sql: '1', params: [] });
  }

  private statement(sql: string): Database.Statement {
    this.assertOpen();
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      // Queries differ only by how many services/levels they list: a small cache suffices.
      if (this.statements.size > 200) this.statements.clear();
      this.statements.set(sql, s);
    }
    return s;
  }

  private all<T>(sql: string, params: unknown[]): T[] {
    return this.statement(sql).all(...params) as T[];
  }

  private get1<T>(sql: string, params: unknown[]): T | undefined {
    return this.statement(sql).get(...params) as T | undefined;
  }

  private assertOpen(): void {
    if (this.closed) throw new LogFlowError('LF_ERR_STATE_STORE', 'the search store is closed');
  }
}

function and(a: Where, b: Where): Where {
  return a.sql === '1' ? b : { sql: `${a.sql} AND ${b.sql}`, params: [...a.params, ...b.params] };
}

function topCounts(counts: Map<string, number>, size: number): Record<string, number> {
  const sorted = [...counts].sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  return Object.fromEntries(sorted.slice(0, size));
}

function toDocument(row: Row): LogDocument {
  return {
    id: row.id,
    timestamp: new Date(row.ts).toISOString(),
    level: row.level,
    service: row.service,
    message: row.message,
    source: { hostname: row.hostname, file: row.file },
    extra_fields: row.extra ? JSON.parse(row.extra) : {},
    ingested_at: new Date(row.ingested_at).toISOString(),
  };
}
