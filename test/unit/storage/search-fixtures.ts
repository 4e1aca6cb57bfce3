/**
 * The documents every search store is tested with, and a plain-JS model of the answers that do
 * not depend on text analysis (filters, order, counts). Full-text expectations are spelled out
 * by id in the contract itself.
 */

import { tieBreaker } from '../../../storage/logs/search-query.ts';
import type { Level, LogDocument, ParsedLog } from '../../../storage/logs/types.ts';
import { toLogDocument } from '../../../storage/logs/types.ts';

/** 23:45 UTC: the 60 generated logs (30 minutes) cross midnight, so Elasticsearch spreads them over two daily indices. */
export const T0 = Date.UTC(2026, 0, 14, 23, 45, 0);
export const MINUTE = 60_000;

const LEVEL_CYCLE: Level[] = [
  'INFO',
  'INFO',
  'WARN',
  'ERROR',
  'INFO',
  'DEBUG',
  'INFO',
  'FATAL',
  'INFO',
  'WARN',
];
export const SERVICES = ['api-gateway', 'auth-service', 'payment-service', 'search-service', 'worker'];

function log(partial: Partial<ParsedLog> & Pick<ParsedLog, 'id' | 'timestamp' | 'message'>): ParsedLog {
  return {
    level: 'INFO',
    service: 'api-gateway',
    source: { hostname: 'host-1', file: '/var/log/app/app.log' },
    extra_fields: {},
    ingested_at: partial.timestamp + 250,
    ...partial,
  };
}

function errorMessage(i: number): string {
  switch (i % 3) {
    case 0:
      return `Database timeout after 30s on query ${i}`;
    case 1:
      return `Connection refused by upstream\n  at Client.connect(client.ts:${i})\n  at retry(retry.ts:7)`;
    default:
      return 'Out of memory in worker pool';
  }
}

/** Two logs per minute: pairs share a timestamp, so cursor paging must break ties by id. */
export const GENERATED: ParsedLog[] = Array.from({ length: 60 }, (_, i) => {
  const level = LEVEL_CYCLE[i % LEVEL_CYCLE.length];
  const isError = level === 'ERROR' || level === 'FATAL';
  return log({
    // Ids not in time order, so the id tie-break is visible.
    id: `gen-${String((i * 37) % 60).padStart(2, '0')}-${i}`,
    timestamp: T0 + Math.floor(i / 2) * MINUTE,
    level,
    service: SERVICES[i % SERVICES.length],
    message: isError ? errorMessage(i) : `request ${i} handled in ${(i * 7) % 90}ms status=200`,
    source: { hostname: `host-${i % 3}`, file: `/var/log/app/${SERVICES[i % SERVICES.length]}.log` },
    extra_fields: i % 4 === 0 ? { request_id: `req-${i}`, latency_ms: String((i * 7) % 90) } : {},
  });
});

/** Hand-written messages for full text and query-syntax safety, an hour before the rest. */
export const SPECIAL: ParsedLog[] = [
  log({
    id: 'special-card',
    timestamp: T0 - 60 * MINUTE,
    level: 'ERROR',
    service: 'payment-service',
    message: 'Payment failed: card_declined for user_id=42 (amount 10.5 EUR)',
    extra_fields: { error_code: 'E1042', customer: 'c-7' },
  }),
  log({
    id: 'special-cache',
    timestamp: T0 - 59 * MINUTE,
    level: 'WARN',
    service: 'api-gateway',
    message: 'cache miss for key "user:42" -> fallback to db',
  }),
  log({
    id: 'special-syntax',
    timestamp: T0 - 58 * MINUTE,
    level: 'INFO',
    service: 'search-service',
    message: 'parser saw NEAR(a b) AND OR NOT -x *wild* (paren) : colon "quote" title:foo',
  }),
  log({
    id: 'special-cafe',
    timestamp: T0 - 57 * MINUTE,
    level: 'INFO',
    service: 'worker',
    message: 'Café crème ordered by 日本 user',
  }),
  log({
    id: 'special-dash',
    timestamp: T0 - 56 * MINUTE,
    level: 'DEBUG',
    service: 'payment-service',
    message: 'payment-service responded in 1,000 ms',
  }),
];

export const FIXTURES: ParsedLog[] = [...SPECIAL, ...GENERATED];

/** The order every store lists hits in: newest first, ties by the id's tie-breaker ascending. */
export function byTimeDescIdAsc(a: ParsedLog, b: ParsedLog): number {
  return b.timestamp - a.timestamp || tieBreaker(a.id) - tieBreaker(b.id);
}

export interface Filter {
  services?: string[];
  levels?: string[];
  start_time?: number;
  end_time?: number;
}

export function expectedHits(filter: Filter): ParsedLog[] {
  const levels = filter.levels?.map((l) => l.toUpperCase());
  return FIXTURES.filter(
    (l) =>
      (!filter.services?.length || filter.services.includes(l.service)) &&
      (!levels?.length || levels.includes(l.level)) &&
      (filter.start_time === undefined || l.timestamp >= filter.start_time) &&
      (filter.end_time === undefined || l.timestamp <= filter.end_time),
  ).sort(byTimeDescIdAsc);
}

export function countBy(logs: ParsedLog[], key: (l: ParsedLog) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of logs) out[key(l)] = (out[key(l)] ?? 0) + 1;
  return out;
}

export function docs(logs: ParsedLog[]): LogDocument[] {
  return logs.map(toLogDocument);
}
