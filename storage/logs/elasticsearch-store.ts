/**
 * The distributed search store: the same LogSearchStore questions answered by Elasticsearch 8
 * over the daily indices `<prefix>-*`. Free text is a `match` query (operator `and`) on
 * `message`, never `query_string`, so the user's text is analysed as words and can never be
 * query syntax. Filters are filter clauses (cached, unscored); hits are sorted by
 * (timestamp desc, id asc) and paged with from/size or search_after.
 *
 * Lifecycle: construct, call any method (the index template is put before the first write);
 * `close()` is idempotent and closes the client only when this store created it.
 * Production indexing goes through the Elasticsearch sink; `index()` here serves tests, the
 * bench and small imports, and returns once the documents are searchable.
 */
import { Client, type estypes } from '@elastic/elasticsearch';
import { LogFlowError } from '../../common/errors.ts';
import { itemOutcome } from '../../connectors/elasticsearch/bulk-outcome.ts';
import {
  type IndexTemplateOptions,
  putLogIndexTemplate,
} from '../../connectors/elasticsearch/index-template.ts';
import {
  dailyIndexName,
  type EsLogSource,
  fromEsSource,
  toEsSource,
  unindexableReason,
} from '../../connectors/elasticsearch/log-document.ts';
import { deleteIndicesOlderThan } from '../../connectors/elasticsearch/retention.ts';
import {
  checkHistogramSpan,
  ERROR_LEVELS,
  encodeCursor,
  LEVEL_BUCKETS,
  MAX_HISTOGRAM_BUCKETS,
  type NormalizedQuery,
  normalizeQuery,
  SERVICE_BUCKETS,
} from './search-query.ts';
import type {
  HistogramBucket,
  LogDocument,
  LogSearchQuery,
  LogSearchResult,
  LogSearchStore,
  ParsedLog,
} from './types.ts';

export interface ElasticsearchLogStoreOptions {
  /** An existing client (shared with other components), or `node` to create one. */
  client?: Client;
  node?: string;
  /** Daily indices are `<indexPrefix>-YYYY.MM.DD`. Default `logs`. */
  indexPrefix?: string;
  template?: IndexTemplateOptions;
  /** Per-request timeout. Default 30 s. */
  requestTimeoutMs?: number;
}

type TermsAgg = { buckets: { key: string; doc_count: number }[] };

const SORT: estypes.SortCombinations[] = [
  { timestamp: { order: 'desc', unmapped_type: 'date' } },
  { sort_key: { order: 'asc', unmapped_type: 'long' } },
];

export class ElasticsearchLogStore implements LogSearchStore {
  readonly kind = 'elasticsearch' as const;
  readonly indexPrefix: string;
  readonly client: Client;
  private readonly ownsClient: boolean;
  private readonly templateOptions: IndexTemplateOptions;
  private templateReady: Promise<void> | undefined;
  private closed = false;

  constructor(options: ElasticsearchLogStoreOptions) {
    if (!options.client && !options.node) {
      throw new LogFlowError('LF_ERR_CONFIG_INVALID', 'ElasticsearchLogStore needs a client or a node URL');
    }
    this.client =
      options.client ??
      new Client({ node: options.node!, requestTimeout: options.requestTimeoutMs ?? 30_000 });
    this.ownsClient = !options.client;
    this.indexPrefix = options.indexPrefix ?? 'logs';
    this.templateOptions = options.template ?? {};
  }

  private get pattern(): string {
    return `${this.indexPrefix}-*`;
  }

  /** Puts the index template once (again after a failure). */
  ensureTemplate(): Promise<void> {
    this.templateReady ??= putLogIndexTemplate(this.client, this.indexPrefix, this.templateOptions).catch(
      (err) => {
        this.templateReady = undefined;
        throw unavailable('could not put the index template', err);
      },
    );
    return this.templateReady;
  }

  async index(logs: ParsedLog[]): Promise<void> {
    if (logs.length === 0) return;
    await this.ensureTemplate();
    const operations: unknown[] = [];
    for (const log of logs) {
      const bad = unindexableReason(log);
      if (bad) throw new LogFlowError('LF_ERR_SINK_REJECTED', `log ${JSON.stringify(log.id)}: ${bad}`);
      operations.push({ create: { _index: dailyIndexName(this.indexPrefix, log.timestamp), _id: log.id } });
      operations.push(toEsSource(log));
    }
    const response = await this.call(() => this.client.bulk({ operations, refresh: 'wait_for' }));
    if (!response.errors) return;
    const failures = response.items
      .map((entry) => itemOutcome(Object.values(entry)[0]!))
      .filter((o) => o.kind !== 'written') as Exclude<ReturnType<typeof itemOutcome>, { kind: 'written' }>[];
    if (failures.length > 0) {
      const retriable = failures.every((f) => f.kind === 'retry');
      throw new LogFlowError(
        retriable ? 'LF_ERR_SERVICE_UNAVAILABLE' : 'LF_ERR_SINK_REJECTED',
        `${failures.length} of ${logs.length} logs not indexed: ${failures[0].reason}`,
        { retriable, details: failures.slice(0, 10) },
      );
    }
  }

  async search(query: LogSearchQuery): Promise<LogSearchResult> {
    const q = normalizeQuery(query);
    const response = await this.call(() =>
      this.client.search<EsLogSource>({
        index: this.pattern,
        ignore_unavailable: true,
        allow_no_indices: true,
        query: this.queryOf(q),
        sort: SORT,
        from: q.offset,
        // One more than asked: it tells whether a next page exists.
        size: q.limit > 0 ? q.limit + 1 : 0,
        search_after: q.after ? [q.after.timestamp, q.after.tieBreaker] : undefined,
        track_total_hits: true,
        aggs: {
          by_level: { terms: { field: 'level', size: LEVEL_BUCKETS } },
          by_service: { terms: { field: 'service', size: SERVICE_BUCKETS } },
        },
      }),
    );
    const hits = response.hits.hits;
    let nextCursor: string | undefined;
    if (q.limit > 0 && hits.length > q.limit) {
      hits.length = q.limit;
      const [timestamp, tie] = hits[hits.length - 1].sort as [number, number];
      nextCursor = encodeCursor({ timestamp, tieBreaker: tie });
    }
    const aggs = response.aggregations as Record<string, TermsAgg> | undefined;
    return {
      total: totalOf(response.hits.total),
      logs: hits.map((h) => fromEsSource(h._source!, h._id ?? undefined)),
      aggregations: { by_level: bucketsOf(aggs?.by_level), by_service: bucketsOf(aggs?.by_service) },
      ...(nextCursor ? { next_cursor: nextCursor } : {}),
    };
  }

  async get(id: string): Promise<LogDocument | null> {
    // The daily index of an id is unknown: an ids query over all of them finds it by `_id`.
    const response = await this.call(() =>
      this.client.search<EsLogSource>({
        index: this.pattern,
        ignore_unavailable: true,
        allow_no_indices: true,
        query: { ids: { values: [id] } },
        size: 1,
      }),
    );
    const hit = response.hits.hits[0];
    return hit?._source ? fromEsSource(hit._source, hit._id ?? undefined) : null;
  }

  async recent(limit: number, level?: string): Promise<LogDocument[]> {
    const q = normalizeQuery({ limit, offset: 0, levels: level ? [level] : [] });
    // Hits only: no total and no aggregations, so Elasticsearch can stop at the newest `limit`
    // per segment instead of visiting every log.
    const response = await this.call(() =>
      this.client.search<EsLogSource>({
        index: this.pattern,
        ignore_unavailable: true,
        allow_no_indices: true,
        query: this.queryOf(q),
        sort: SORT,
        size: q.limit,
        track_total_hits: false,
      }),
    );
    return response.hits.hits.map((h) => fromEsSource(h._source!, h._id ?? undefined));
  }

  async histogram(
    query: Omit<LogSearchQuery, 'limit' | 'offset' | 'cursor'>,
    intervalMs: number,
  ): Promise<HistogramBucket[]> {
    const q = normalizeQuery({ ...query, limit: 0, offset: 0 });
    const bounded = q.startTime !== undefined && q.endTime !== undefined;
    checkHistogramSpan(intervalMs, bounded ? q.startTime! : 0, bounded ? q.endTime! : 0);
    const response = await this.call(() =>
      this.client.search({
        index: this.pattern,
        ignore_unavailable: true,
        allow_no_indices: true,
        query: this.queryOf(q),
        size: 0,
        aggs: {
          histogram: {
            date_histogram: {
              field: 'timestamp',
              fixed_interval: `${intervalMs}ms`,
              min_doc_count: 0,
              ...(bounded ? { extended_bounds: { min: q.startTime!, max: q.endTime! } } : {}),
            },
            aggs: { by_level: { terms: { field: 'level', size: LEVEL_BUCKETS } } },
          },
        },
      }),
    ).catch((err: unknown) => {
      if (String((err as Error)?.message).includes('too_many_buckets')) {
        throw new LogFlowError(
          'LF_ERR_UNSUPPORTED_RANGE',
          'too many histogram buckets; use a larger interval',
        );
      }
      throw err;
    });
    const agg = (
      response.aggregations as Record<
        string,
        { buckets: (TermsAgg['buckets'][number] & { key: number; by_level: TermsAgg })[] }
      >
    )?.histogram;
    const buckets = (agg?.buckets ?? []).map((b) => ({
      key: b.key,
      count: b.doc_count,
      by_level: bucketsOf(b.by_level),
    }));
    if (buckets.length > MAX_HISTOGRAM_BUCKETS + 1) {
      throw new LogFlowError('LF_ERR_UNSUPPORTED_RANGE', 'too many histogram buckets; use a larger interval');
    }
    return buckets;
  }

  async topErrors(
    service: string,
    startTime: number,
    endTime: number,
    size: number,
  ): Promise<{ message: string; count: number }[]> {
    const response = await this.call(() =>
      this.client.search({
        index: this.pattern,
        ignore_unavailable: true,
        allow_no_indices: true,
        size: 0,
        query: {
          bool: {
            filter: [
              { term: { service } },
              { terms: { level: [...ERROR_LEVELS] } },
              { range: { timestamp: { gte: startTime, lte: endTime, format: 'epoch_millis' } } },
            ],
          },
        },
        aggs: { top: { terms: { field: 'error_key', size } } },
      }),
    );
    const top = (response.aggregations as Record<string, TermsAgg> | undefined)?.top;
    return (top?.buckets ?? []).map((b) => ({ message: String(b.key), count: b.doc_count }));
  }

  async count(): Promise<number> {
    const response = await this.call(() =>
      this.client.count({ index: this.pattern, ignore_unavailable: true, allow_no_indices: true }),
    );
    return response.count;
  }

  async deleteOlderThan(cutoffMs: number): Promise<void> {
    // Whole days go with their index; the day that straddles the cutoff loses its older logs.
    await this.call(() => deleteIndicesOlderThan(this.client, this.indexPrefix, cutoffMs));
    // The rest by id (not _delete_by_query: minimal distributions lack the reindex module).
    for (;;) {
      const response = await this.call(() =>
        this.client.search({
          index: this.pattern,
          ignore_unavailable: true,
          allow_no_indices: true,
          size: 5_000,
          _source: false,
          sort: ['_doc'],
          query: { range: { timestamp: { lt: cutoffMs, format: 'epoch_millis' } } },
        }),
      );
      const hits = response.hits.hits;
      if (hits.length === 0) return;
      const operations = hits.map((h) => ({ delete: { _index: h._index, _id: h._id } }));
      await this.call(() => this.client.bulk({ operations, refresh: true }));
    }
  }

  async ping(): Promise<boolean> {
    if (this.closed) return false;
    try {
      // Cluster health, not `HEAD /`: minimal distributions (the integ-test zip) have no root route.
      const health = await this.client.cluster.health({ timeout: '2s' }, { requestTimeout: 3_000 });
      return health.status === 'green' || health.status === 'yellow';
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsClient) await this.client.close();
  }

  /** Deletes this store's template and indices (tests and benches with random prefixes). */
  async destroy(): Promise<void> {
    await this.client.indices.delete({ index: this.pattern, expand_wildcards: 'all' }, { ignore: [404] });
    await this.client.indices.deleteIndexTemplate(
      { name: `${this.indexPrefix}-template` },
      { ignore: [404] },
    );
  }

  private queryOf(q: NormalizedQuery): estypes.QueryDslQueryContainer {
    const filter: estypes.QueryDslQueryContainer[] = [];
    // In filter context: hits are sorted by time, so scoring would be wasted work.
    if (q.text !== undefined) filter.push({ match: { message: { query: q.text, operator: 'and' } } });
    if (q.services.length > 0) filter.push({ terms: { service: q.services } });
    if (q.levels.length > 0) filter.push({ terms: { level: q.levels } });
    if (q.startTime !== undefined || q.endTime !== undefined) {
      filter.push({ range: { timestamp: { gte: q.startTime, lte: q.endTime, format: 'epoch_millis' } } });
    }
    return { bool: { filter } };
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    if (this.closed) throw new LogFlowError('LF_ERR_STATE_STORE', 'the search store is closed');
    try {
      return await fn();
    } catch (err) {
      throw unavailable('Elasticsearch request failed', err);
    }
  }
}

/** Connection problems and 429/5xx become a retriable LF_ERR_SERVICE_UNAVAILABLE. */
function unavailable(what: string, err: unknown): unknown {
  if (err instanceof LogFlowError) return err;
  const status = (err as { meta?: { statusCode?: number } })?.meta?.statusCode;
  if (!status || status === 429 || status >= 500) {
    return new LogFlowError('LF_ERR_SERVICE_UNAVAILABLE', `${what}: ${(err as Error)?.message}`, {
      retriable: true,
      cause: err,
    });
  }
  return err;
}

function totalOf(total: number | estypes.SearchTotalHits | undefined): number {
  if (total === undefined) return 0;
  return typeof total === 'number' ? total : total.value;
}

function bucketsOf(agg: TermsAgg | undefined): Record<string, number> {
  return Object.fromEntries((agg?.buckets ?? []).map((b) => [String(b.key), b.doc_count]));
}
