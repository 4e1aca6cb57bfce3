/**
 * The embedded search store: SQLite (better-sqlite3 12) in WAL mode, durable in one file.
 * Logs live in a plain table with indexed columns (timestamp, level, service); message text is
 * indexed by a contentless FTS5 table whose terms are those of Elasticsearch's standard analyzer
 * (see standard-tokenizer.ts), so both stores match the same words.
 *
 * Row ids are time-ordered: `rid = floor(ts) * 2^20 + n`, n counting the logs of one
 * millisecond. A time filter is then also a rowid range, which bounds the FTS5 MATCH (FTS5 seeks
 * its doclists to the range instead of listing every match of the words in the whole store) and
 * makes a time range a contiguous slice of the table. Such ids pass 2^53, so they are BigInts in
 * JS and never read back as numbers.
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

const SCHEMA_VERSION = 3;

/** Logs one millisecond can hold: the low 20 bits of a row id. */
const SLOT = 1n << 20n;
/** Rows deleted per retention transaction. */
const DELETE_SLICE = 5000;
/** Rows a page may expect to read walking ids backwards before sorting the hits is cheaper. */
const WALK_BUDGET = 50_000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS logs (
  rid INTEGER PRIMARY KEY, -- floor(ts) * 2^20 + n: time-ordered (see above)
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
-- Both hold level and service, so the aggregations of a filtered search are counted from the
-- index alone, without reading the rows (schema 2 had the same names without the third column).
CREATE INDEX IF NOT EXISTS logs_level_ts ON logs (level, ts, service);
CREATE INDEX IF NOT EXISTS logs_service_ts ON logs (service, ts, level);
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

/** A search filter: the words (on logs_fts, absent without text) and the rest (on logs). */
interface Filter {
  fts: Where | null;
  rows: Where;
}

export class SqliteLogStore implements LogSearchStore {
  readonly kind = 'sqlite' as const;
  readonly path: string;
  private readonly db: Database.Database;
  private readonly statements = new Map<string, Database.Statement>();
  private readonly insertBatch: (logs: ParsedLog[]) => number;
  /** count() answer while no other connection wrote (PRAGMA data_version unchanged). */
  private counted: { rows: number; dataVersion: number } | undefined;
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
      if (version === 1 || version === 2) this.upgrade(version);
      this.db.exec(SCHEMA);
      this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
    } catch (err) {
      if (err instanceof LogFlowError) throw err;
      throw new LogFlowError('LF_ERR_STATE_STORE', `cannot open the search store at ${options.path}`, {
        cause: err,
      });
    }
    const insert = this.db.prepare(
      `INSERT OR IGNORE INTO logs (rid, ${COLUMNS}, error_key, tb) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const insertTerms = this.db.prepare('INSERT INTO logs_fts (rowid, terms) VALUES (?, ?)');
    const lastOfSlot = this.db
      .prepare('SELECT max(rid) FROM logs WHERE rid BETWEEN ? AND ?')
      .pluck()
      .safeIntegers(true);
    this.insertBatch = this.db.transaction((logs: ParsedLog[]) => {
      let added = 0;
      let previous: bigint | null = null;
      for (const log of logs) {
        const extra =
          Object.keys(log.extra_fields ?? {}).length > 0 ? JSON.stringify(log.extra_fields) : null;
        const base = BigInt(Math.floor(log.timestamp)) * SLOT;
        // Logs of the same millisecond often follow each other: inside this transaction nothing
        // else writes, so the id after the previous one is free (a gap left by a replay is harmless).
        const last: bigint | null =
          previous !== null && previous >= base && previous < base + SLOT
            ? previous
            : (lastOfSlot.get(base, base + SLOT - 1n) as bigint | null);
        const rid: bigint = last === null ? base : last + 1n;
        previous = rid;
        if (rid >= base + SLOT) {
          throw new LogFlowError(
            'LF_ERR_STATE_STORE',
            `more than ${SLOT} logs in the millisecond ${log.timestamp}`,
          );
        }
        const result = insert.run(
          rid,
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
        if (result.changes === 1) {
          insertTerms.run(rid, standardTokens(log.message).join(' '));
          added++;
        }
      }
      return added;
    });
  }

  /**
   * One transaction, so a crash leaves the old file as it was. Schema 1 ordered ties by id;
   * schema 2 by the tie-breaker column (as Elasticsearch does). Schemas 1 and 2 numbered rows in
   * insertion order; schema 3 by time: the rows are copied with new ids and their terms indexed
   * again (the FTS5 table is contentless, so the terms are recomputed from the messages).
   */
  private upgrade(from: 1 | 2): void {
    this.db.function('lf_tie_breaker', { deterministic: true }, (id: unknown) => tieBreaker(String(id)));
    this.db.function('lf_terms', { deterministic: true }, (message: unknown) =>
      standardTokens(String(message)).join(' '),
    );
    this.db.transaction(() => {
      if (from === 1) {
        this.db.exec('ALTER TABLE logs ADD COLUMN tb INTEGER NOT NULL DEFAULT 0');
        this.db.exec('UPDATE logs SET tb = lf_tie_breaker(id)');
      }
      this.db.exec(`ALTER TABLE logs RENAME TO logs_by_insertion;
        DROP INDEX IF EXISTS logs_ts_id; DROP INDEX IF EXISTS logs_ts_tb;
        DROP INDEX IF EXISTS logs_level_ts; DROP INDEX IF EXISTS logs_service_ts;
        DROP TABLE IF EXISTS logs_fts;`);
      this.db.exec(SCHEMA);
      this.db.exec(`INSERT INTO logs (rid, ${COLUMNS}, error_key, tb)
        SELECT ts * ${SLOT} + row_number() OVER (PARTITION BY ts ORDER BY rid) - 1,
          ${COLUMNS}, error_key, tb FROM logs_by_insertion;
        INSERT INTO logs_fts (rowid, terms) SELECT rid, lf_terms(message) FROM logs;
        DROP TABLE logs_by_insertion;`);
      this.db.pragma(`user_version = ${SCHEMA_VERSION}`);
    })();
  }

  async index(logs: ParsedLog[]): Promise<void> {
    this.assertOpen();
    if (logs.length === 0) return;
    const added = this.insertBatch(logs);
    if (this.counted) this.counted.rows += added;
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
      const rows = this.page(q, total);
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

  /**
   * One page of hits in (ts desc, tb asc) order, plus one row telling whether more follow.
   * Row ids are time-ordered, so walking them backwards (FTS5 yields its matches that way too)
   * stops after the page instead of sorting every hit. Within one millisecond the ids follow
   * insertion, not tb: the page is sorted again here, which is exact unless the page cuts through
   * the logs of a millisecond; then (rare but for second-resolution timestamps) the full sort
   * answers.
   */
  private page(q: NormalizedQuery, total: number): Row[] {
    const after: Where = q.after
      ? {
          sql: '(ts < ? OR (ts = ? AND tb > ?))',
          params: [q.after.timestamp, q.after.timestamp, q.after.tieBreaker],
        }
      : { sql: '1', params: [] };
    const size = [q.limit + 1, q.offset];
    const sorted = () => {
      const where = and(this.whereOf(q)!, after);
      return this.all<Row>(
        `SELECT ${COLUMNS}, tb FROM logs WHERE ${where.sql} ORDER BY ts DESC, tb ASC LIMIT ? OFFSET ?`,
        [...where.params, ...size],
      );
    };
    // Rows the walk reads to find a page if hits are spread evenly; past the budget, the hits
    // are few enough (total is small) for sorting them all to be cheaper.
    if (((q.limit + 1 + q.offset) * this.rowCount()) / total > WALK_BUDGET) return sorted();
    const filter = this.filterOf(q, { walk: true })!;
    const rows = and(filter.rows, after);
    const window = filter.fts
      ? this.all<Row>(
          `SELECT ${COLUMNS}, tb FROM logs_fts JOIN logs ON logs.rid = logs_fts.rowid
           WHERE ${and(filter.fts, rows).sql} ORDER BY logs_fts.rowid DESC LIMIT ? OFFSET ?`,
          [...and(filter.fts, rows).params, ...size],
        )
      : this.all<Row>(
          `SELECT ${COLUMNS}, tb FROM logs WHERE ${rows.sql} ORDER BY rid DESC LIMIT ? OFFSET ?`,
          [...rows.params, ...size],
        );
    if (window.length === 0) return window;
    const edges = [window[0].ts, window[window.length - 1].ts];
    const whole = edges.every((ts) => {
      const inWindow = window.filter((r) => r.ts === ts).length;
      const one = this.filterOf({ ...q, startTime: ts, endTime: ts })!;
      const all = and(asWhere(one), after);
      return (
        this.get1<{ c: number }>(`SELECT count(*) AS c FROM logs WHERE ${all.sql}`, all.params)!.c ===
        inWindow
      );
    });
    return whole ? window.sort((x, y) => y.ts - x.ts || x.tb - y.tb) : sorted();
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

  /**
   * Counting a million rows takes SQLite ~10 ms, and /metrics/system asks on every call: the count
   * is kept up to date by this connection's writes and taken again only when another connection
   * wrote (its commits change PRAGMA data_version; this connection's own do not).
   */
  async count(): Promise<number> {
    return this.rowCount();
  }

  private rowCount(): number {
    this.assertOpen();
    const dataVersion = this.db.pragma('data_version', { simple: true }) as number;
    if (this.counted?.dataVersion !== dataVersion) {
      const rows = this.get1<{ c: number }>('SELECT count(*) AS c FROM logs', [])!.c;
      this.counted = { rows, dataVersion };
    }
    return this.counted.rows;
  }

  async deleteOlderThan(cutoffMs: number): Promise<void> {
    this.assertOpen();
    // In slices, so a large retention sweep never holds the write lock for long. The slice is
    // chosen in SQL: row ids pass 2^53 and must not round-trip through JS numbers.
    const slice = `SELECT rid FROM logs WHERE ts < ? ORDER BY rid LIMIT ${DELETE_SLICE}`;
    const deleteTerms = this.db.prepare(`DELETE FROM logs_fts WHERE rowid IN (${slice})`);
    const deleteRows = this.db.prepare(`DELETE FROM logs WHERE rid IN (${slice})`);
    const deleteSlice = this.db.transaction((): number => {
      deleteTerms.run(cutoffMs);
      return deleteRows.run(cutoffMs).changes;
    });
    for (;;) {
      const deleted = deleteSlice();
      if (this.counted) this.counted.rows -= deleted;
      if (deleted < DELETE_SLICE) break;
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

  /** The filter part of a query (no cursor) as one condition on logs; null when the text can match nothing. */
  private whereOf(q: NormalizedQuery): Where | null {
    const filter = this.filterOf(q);
    return filter ? asWhere(filter) : null;
  }

  /**
   * The filter part of a query: conditions on logs_fts (the words) and on logs (the rest); null
   * when the text can match nothing. A time filter is given twice: on ts (exact) and as the
   * row-id range holding those times, which bounds the FTS5 match and lets SQLite read the range
   * as a slice of the table.
   */
  private filterOf(q: NormalizedQuery, options: { walk?: boolean } = {}): Filter | null {
    // A walk reads rows in id order: `+column` keeps SQLite from reading an index instead.
    const col = (name: string) => (options.walk ? `+${name}` : name);
    const parts: Where[] = [];
    const rids = ridRange(q.startTime, q.endTime);
    let fts: Where | null = null;
    if (q.text !== undefined) {
      const terms = standardTokens(q.text);
      // Like Elasticsearch's match query: text with no words in it matches nothing.
      if (terms.length === 0) return null;
      // Every term is quoted: whatever the user typed is a word, never FTS5 syntax.
      const match = terms.map((t) => `"${t.replaceAll('"', '""')}"`).join(' ');
      fts = and({ sql: 'logs_fts MATCH ?', params: [match] }, rids.on('logs_fts.rowid'));
    }
    if (q.services.length > 0) {
      parts.push({
        sql: `${col('service')} IN (${q.services.map(() => '?').join(', ')})`,
        params: q.services,
      });
    }
    if (q.levels.length > 0) {
      parts.push({ sql: `${col('level')} IN (${q.levels.map(() => '?').join(', ')})`, params: q.levels });
    }
    if (q.startTime !== undefined) parts.push({ sql: `${col('ts')} >= ?`, params: [q.startTime] });
    if (q.endTime !== undefined) parts.push({ sql: `${col('ts')} <= ?`, params: [q.endTime] });
    parts.push(rids.on('rid'));
    return { fts, rows: parts.reduce(and, { sql: '1', params: [] }) };
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

function asWhere(filter: Filter): Where {
  if (!filter.fts) return filter.rows;
  return and(filter.rows, {
    sql: `rid IN (SELECT rowid FROM logs_fts WHERE ${filter.fts.sql})`,
    params: filter.fts.params,
  });
}

/** The row ids of logs with times in [start, end] (both optional): see SLOT. */
function ridRange(start?: number, end?: number): { on(column: string): Where } {
  const lo = start !== undefined ? BigInt(Math.ceil(start)) * SLOT : undefined;
  const hi = end !== undefined ? BigInt(Math.floor(end)) * SLOT + SLOT - 1n : undefined;
  return {
    on(column) {
      if (lo !== undefined && hi !== undefined) return { sql: `${column} BETWEEN ? AND ?`, params: [lo, hi] };
      if (lo !== undefined) return { sql: `${column} >= ?`, params: [lo] };
      if (hi !== undefined) return { sql: `${column} <= ?`, params: [hi] };
      return { sql: '1', params: [] };
    },
  };
}

function and(a: Where, b: Where): Where {
  if (b.sql === '1') return a;
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
