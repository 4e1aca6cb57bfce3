/**
 * What both search stores do the same way before they ask their engine anything: validate and
 * normalise a query, encode and decode cursors, and derive the top-errors grouping key. Keeping it
 * here is what makes the SQLite and Elasticsearch answers equal (the shared contract test checks).
 */
import { hash } from 'node:crypto';
import { LogFlowError } from '../../common/errors.ts';
import type { LogSearchQuery } from './types.ts';

/** Elasticsearch's default `index.max_result_window`: offset + limit beyond it needs a cursor. */
export const MAX_RESULT_WINDOW = 10_000;
/** Buckets listed per aggregation (terms aggregations are bounded; so is SQLite's answer). */
export const LEVEL_BUCKETS = 10;
export const SERVICE_BUCKETS = 100;
/** Upper bound on histogram buckets (Elasticsearch refuses more than `search.max_buckets`). */
export const MAX_HISTOGRAM_BUCKETS = 10_000;
/** Levels topErrors looks at. */
export const ERROR_LEVELS = ['ERROR', 'FATAL'] as const;
/** Characters of a message's first line that group it in topErrors. */
export const ERROR_KEY_LENGTH = 256;

export interface NormalizedQuery {
  /** The user's free text, trimmed; undefined when absent or blank. */
  text?: string;
  services: string[];
  /** Uppercased: the API may pass `error`, the stores hold `ERROR`. */
  levels: string[];
  startTime?: number;
  endTime?: number;
  limit: number;
  offset: number;
  after?: SearchCursor;
}

/** The position after a hit in the (timestamp desc, tie-breaker asc) order. */
export interface SearchCursor {
  timestamp: number;
  tieBreaker: number;
}

/**
 * The second sort key of every hit list: 52 bits of the id's SHA-1, a safe integer. Both stores
 * order by (timestamp desc, tie-breaker asc). A number instead of the id string because
 * Elasticsearch keeps it as an 8-byte doc value where a 32-character id costs ~33 bytes per log
 * (measured with `_disk_usage`); two logs of the same millisecond share it with odds of ~2^-52.
 */
export function tieBreaker(id: string): number {
  // One-shot crypto.hash: no Hash object per call (the ES sink computes this for every log).
  return Number.parseInt(hash('sha1', id, 'hex').slice(0, 13), 16);
}

export function normalizeQuery(
  query: Omit<LogSearchQuery, 'limit' | 'offset'> & Partial<LogSearchQuery>,
): NormalizedQuery {
  const limit = query.limit ?? 0;
  const offset = query.cursor ? 0 : (query.offset ?? 0);
  if (!Number.isInteger(limit) || limit < 0 || limit > MAX_RESULT_WINDOW) {
    throw new LogFlowError('LF_ERR_BAD_REQUEST', `limit must be an integer from 0 to ${MAX_RESULT_WINDOW}`);
  }
  if (!Number.isInteger(offset) || offset < 0) {
    throw new LogFlowError('LF_ERR_BAD_REQUEST', 'offset must be a non-negative integer');
  }
  if (offset + limit > MAX_RESULT_WINDOW) {
    throw new LogFlowError(
      'LF_ERR_BAD_REQUEST',
      `offset + limit may not exceed ${MAX_RESULT_WINDOW}; page further with next_cursor`,
    );
  }
  for (const [name, value] of [
    ['start_time', query.start_time],
    ['end_time', query.end_time],
  ] as const) {
    if (value !== undefined && !Number.isFinite(value)) {
      throw new LogFlowError('LF_ERR_BAD_REQUEST', `${name} must be epoch milliseconds`);
    }
  }
  const text = query.query?.trim();
  return {
    text: text ? text : undefined,
    services: [...new Set(query.services ?? [])],
    levels: [...new Set((query.levels ?? []).map((l) => l.toUpperCase()))],
    startTime: query.start_time,
    endTime: query.end_time,
    limit,
    offset,
    after: query.cursor ? decodeCursor(query.cursor) : undefined,
  };
}

export function encodeCursor(cursor: SearchCursor): string {
  return Buffer.from(JSON.stringify([cursor.timestamp, cursor.tieBreaker])).toString('base64url');
}

export function decodeCursor(cursor: string): SearchCursor {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (
      Array.isArray(parsed) &&
      parsed.length === 2 &&
      Number.isSafeInteger(parsed[0]) &&
      Number.isSafeInteger(parsed[1])
    ) {
      return { timestamp: parsed[0], tieBreaker: parsed[1] };
    }
  } catch {
    // fall through to the one error below
  }
  throw new LogFlowError('LF_ERR_BAD_REQUEST', 'cursor is not a value this API returned');
}

/**
 * The topErrors grouping key: the first line of the message, cut to ERROR_KEY_LENGTH. Stack
 * traces of one failure then count together even when their frames differ.
 */
export function errorKey(message: string): string {
  const newline = message.indexOf('\n');
  const firstLine = (newline === -1 ? message : message.slice(0, newline)).trimEnd();
  if (firstLine.length <= ERROR_KEY_LENGTH) return firstLine;
  // Never cut a surrogate pair in half (Elasticsearch would store a broken character).
  const code = firstLine.charCodeAt(ERROR_KEY_LENGTH - 1);
  const end = code >= 0xd800 && code <= 0xdbff ? ERROR_KEY_LENGTH - 1 : ERROR_KEY_LENGTH;
  return firstLine.slice(0, end);
}

export function isErrorLevel(level: string): boolean {
  return level === 'ERROR' || level === 'FATAL';
}

export function checkHistogramSpan(intervalMs: number, from: number, to: number): void {
  if (!Number.isInteger(intervalMs) || intervalMs < 1) {
    throw new LogFlowError('LF_ERR_UNSUPPORTED_RANGE', 'histogram interval must be a positive integer of ms');
  }
  if ((to - from) / intervalMs > MAX_HISTOGRAM_BUCKETS) {
    throw new LogFlowError(
      'LF_ERR_UNSUPPORTED_RANGE',
      `histogram would have more than ${MAX_HISTOGRAM_BUCKETS} buckets; use a larger interval`,
    );
  }
}

/** Bucket start for a time, aligned to the epoch as Elasticsearch's fixed_interval does. */
export function bucketKey(timestamp: number, intervalMs: number): number {
  return Math.floor(timestamp / intervalMs) * intervalMs;
}
