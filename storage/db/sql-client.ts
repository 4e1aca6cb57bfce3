import { LogFlowError } from '../../common/errors.ts';
import type { AlertRuleChange } from './types.ts';

/**
 * The one thing the repositories need from a database: run a statement with `?` placeholders and
 * get rows back (statements that write use `RETURNING`). PostgreSQL and SQLite implement it, so
 * the repositories' SQL is written once.
 */
export type Row = Record<string, unknown>;

export interface SqlClient {
  readonly dialect: 'postgres' | 'sqlite';
  query<T extends Row = Row>(sql: string, params?: unknown[]): Promise<T[]>;
}

/** How alert_rules changes reach watchers; `afterWrite` is called after each committed write. */
export interface RuleChangeFeed {
  watch(onChange: (change: AlertRuleChange) => void): () => Promise<void>;
  afterWrite(): void;
  close(): Promise<void>;
}

const CONNECTION_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'ETIMEDOUT',
  '57P01',
  '57P03',
  '08001',
  '08003',
  '08006',
]);

/** Maps driver errors to LogFlow codes: unique violations → conflict, lost connections → 503. */
export function mapDbError(err: unknown): unknown {
  const e = err as { code?: string; message?: string; detail?: string };
  if (e?.code === '23505' || e?.code === 'SQLITE_CONSTRAINT_UNIQUE') {
    return new LogFlowError('LF_ERR_CONFLICT', 'A record with the same unique value already exists', {
      cause: err,
      details: e.detail ? { detail: e.detail } : undefined,
    });
  }
  if (e?.code && CONNECTION_ERRORS.has(e.code)) {
    return new LogFlowError('LF_ERR_SERVICE_UNAVAILABLE', 'The database is unavailable', {
      retriable: true,
      cause: err,
    });
  }
  return err;
}

// Row value normalisers: PostgreSQL returns Dates, bigint ids as strings and parsed JSON;
// SQLite returns ISO text, numbers and JSON text.
export function isoOrNull(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  return v instanceof Date ? v.toISOString() : new Date(String(v)).toISOString();
}

export function iso(v: unknown): string {
  return isoOrNull(v) ?? new Date(0).toISOString();
}

export function json<T>(v: unknown): T {
  return (typeof v === 'string' ? JSON.parse(v) : v) as T;
}

export function num(v: unknown): number {
  return typeof v === 'number' ? v : Number(v);
}

export function numOrNull(v: unknown): number | null {
  return v === null || v === undefined ? null : num(v);
}

/** Normalises an input time to the stored form (ISO with ms, UTC) so text comparison is correct. */
export function toStoredTime(v: string): string {
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) throw new LogFlowError('LF_ERR_VALIDATION', `Invalid time "${v}"`);
  return d.toISOString();
}
