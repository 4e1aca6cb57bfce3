/**
 * How a ParsedLog is stored in Elasticsearch and read back: the daily index it belongs to and the
 * document body. Times are stored as epoch milliseconds (shorter in `_source` than ISO strings;
 * the `date` mapping reads both), and only ERROR/FATAL logs carry `error_key`, the grouping key of
 * topErrors, so the other 85 % of logs pay nothing for it.
 */
import { errorKey, isErrorLevel, tieBreaker } from '../../storage/logs/search-query.ts';
import type { LogDocument, ParsedLog } from '../../storage/logs/types.ts';

/** The largest `_id` Elasticsearch accepts; a longer one would fail the whole bulk request. */
export const MAX_ID_BYTES = 512;
/** Timestamps a daily index name can be made from (years 1970–9999). */
const MAX_TIMESTAMP = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
const DAY_MS = 86_400_000;

export interface EsLogSource {
  id: string;
  timestamp: number;
  level: string;
  service: string;
  message: string;
  source: { hostname: string; file: string };
  extra_fields?: Record<string, string>;
  ingested_at: number;
  error_key?: string;
  /** The search tie-breaker (storage/logs/search-query.ts tieBreaker). */
  sort_key: number;
}

/** Why a log cannot be written to any index, or undefined when it can. */
export function unindexableReason(log: ParsedLog): string | undefined {
  if (typeof log.id !== 'string' || log.id.length === 0) return 'empty id';
  // At most 3 UTF-8 bytes per UTF-16 unit: short ids (all of ours) skip the byte count.
  if (log.id.length * 3 > MAX_ID_BYTES && Buffer.byteLength(log.id) > MAX_ID_BYTES) {
    return `id longer than ${MAX_ID_BYTES} bytes`;
  }
  if (!Number.isFinite(log.timestamp) || log.timestamp < 0 || log.timestamp > MAX_TIMESTAMP) {
    return `timestamp ${log.timestamp} is outside years 1970-9999`;
  }
  return undefined;
}

/** `<prefix>-YYYY.MM.DD` of the log's UTC day. */
export function dailyIndexName(prefix: string, timestamp: number): string {
  const d = new Date(timestamp);
  const mm = String(d.getUTCMonth() + 1).padStart(2, '0');
  const dd = String(d.getUTCDate()).padStart(2, '0');
  return `${prefix}-${d.getUTCFullYear()}.${mm}.${dd}`;
}

/**
 * The bulk action line of a log (`{"create":{"_index":…,"_id":…}}`), built as a string: the index
 * name is made once per UTC day instead of once per log (a sink sees long runs of the same day).
 */
export class BulkActionLines {
  private dayStart = Number.NaN;
  private quotedIndex = '';

  constructor(private readonly prefix: string) {}

  createLine(id: string, timestamp: number): string {
    if (!(timestamp >= this.dayStart && timestamp < this.dayStart + DAY_MS)) {
      this.dayStart = timestamp - (((timestamp % DAY_MS) + DAY_MS) % DAY_MS);
      this.quotedIndex = JSON.stringify(dailyIndexName(this.prefix, timestamp));
    }
    return `{"create":{"_index":${this.quotedIndex},"_id":${JSON.stringify(id)}}}`;
  }
}

/** Start of the UTC day a daily index holds, or undefined when the name is not one of ours. */
export function dailyIndexDay(prefix: string, indexName: string): number | undefined {
  if (!indexName.startsWith(`${prefix}-`)) return undefined;
  const m = /^(\d{4})\.(\d{2})\.(\d{2})$/.exec(indexName.slice(prefix.length + 1));
  if (!m) return undefined;
  const day = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return dailyIndexName(prefix, day) === indexName ? day : undefined;
}

/** True when every log of that daily index is older than the cutoff. */
export function dailyIndexEndsBefore(day: number, cutoffMs: number): boolean {
  return day + DAY_MS <= cutoffMs;
}

export function toEsSource(log: ParsedLog): EsLogSource {
  const doc: EsLogSource = {
    id: log.id,
    timestamp: log.timestamp,
    level: log.level,
    service: log.service,
    message: log.message,
    source: { hostname: log.source.hostname, file: log.source.file },
    ingested_at: log.ingested_at,
    sort_key: tieBreaker(log.id),
  };
  if (log.extra_fields && Object.keys(log.extra_fields).length > 0) doc.extra_fields = log.extra_fields;
  if (isErrorLevel(log.level)) doc.error_key = errorKey(log.message);
  return doc;
}

/** `id` is the hit's `_id`: the template keeps the id out of `_source` (it is `_id` again). */
export function fromEsSource(source: EsLogSource, id?: string): LogDocument {
  return {
    id: id ?? source.id,
    timestamp: new Date(source.timestamp).toISOString(),
    level: source.level,
    service: source.service,
    message: source.message,
    source: { hostname: source.source?.hostname ?? '', file: source.source?.file ?? '' },
    extra_fields: source.extra_fields ?? {},
    ingested_at: new Date(source.ingested_at).toISOString(),
  };
}
