/**
 * The log documents and the search questions both search stores answer: Elasticsearch in the
 * distributed mode, SQLite FTS5 in the embedded mode. One interface, two implementations, the
 * same answers (a shared contract test runs against both).
 */
export const LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL', 'UNKNOWN'] as const;
export type Level = (typeof LEVELS)[number];

/** A parsed log as the pipeline carries it (the `logs-parsed` Avro value). Times in epoch ms. */
export interface ParsedLog {
  /** Deterministic: the same raw line from the same file position always gets the same id. */
  id: string;
  timestamp: number;
  level: Level;
  service: string;
  message: string;
  source: { hostname: string; file: string };
  extra_fields: Record<string, string>;
  ingested_at: number;
}

/** A log as the API returns it (the seed's document shape; times as ISO 8601 strings). */
export interface LogDocument {
  id: string;
  timestamp: string;
  level: string;
  service: string;
  message: string;
  source: { hostname: string; file: string };
  extra_fields: Record<string, string>;
  ingested_at: string;
}

export interface LogSearchQuery {
  /** Free text. Matched as plain words — never interpreted as query syntax. */
  query?: string;
  services?: string[];
  levels?: string[];
  /** Inclusive, epoch ms. */
  start_time?: number;
  /** Inclusive, epoch ms. */
  end_time?: number;
  limit: number;
  offset: number;
  /** Opaque cursor from a previous page's `next_cursor` (search_after); replaces `offset`. */
  cursor?: string;
}

export interface LogSearchResult {
  total: number;
  logs: LogDocument[];
  aggregations: { by_level: Record<string, number>; by_service: Record<string, number> };
  /** Present when more hits follow; pass back as `cursor` to page beyond 10,000 hits. */
  next_cursor?: string;
}

export interface HistogramBucket {
  /** Bucket start, epoch ms. */
  key: number;
  count: number;
  by_level: Record<string, number>;
}

export interface LogSearchStore {
  readonly kind: 'elasticsearch' | 'sqlite';
  /** Idempotent by `id`: indexing the same document twice keeps one copy. */
  index(logs: ParsedLog[]): Promise<void>;
  search(query: LogSearchQuery): Promise<LogSearchResult>;
  get(id: string): Promise<LogDocument | null>;
  /** Newest first. */
  recent(limit: number, level?: string): Promise<LogDocument[]>;
  histogram(
    query: Omit<LogSearchQuery, 'limit' | 'offset' | 'cursor'>,
    intervalMs: number,
  ): Promise<HistogramBucket[]>;
  /** Most frequent messages among ERROR/FATAL logs of a service in a time range. */
  topErrors(
    service: string,
    startTime: number,
    endTime: number,
    size: number,
  ): Promise<{ message: string; count: number }[]>;
  count(): Promise<number>;
  /** Retention: removes logs older than the cutoff (daily indices in Elasticsearch). */
  deleteOlderThan(cutoffMs: number): Promise<void>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

export function toLogDocument(log: ParsedLog): LogDocument {
  return {
    id: log.id,
    timestamp: new Date(log.timestamp).toISOString(),
    level: log.level,
    service: log.service,
    message: log.message,
    source: log.source,
    extra_fields: log.extra_fields,
    ingested_at: new Date(log.ingested_at).toISOString(),
  };
}
