import type { FastifyInstance } from 'fastify';
import {
  LEVELS,
  type LogSearchQuery,
  type LogSearchResult,
  type LogSearchStore,
} from '../../storage/logs/types.ts';
import { invalid, notFound } from '../errors.ts';
import { splitList, timeBounds } from '../filters.ts';
import { namedPlugin } from '../plugin.ts';
import { levelSchema, ref } from '../schemas.ts';
import { type SearchCache, searchCacheKey } from '../search-cache.ts';
import { DURATION_PATTERN, parseDuration, timeSchema } from '../time.ts';
import { registerTailRoute, type TailRouteOptions } from './logs-tail.ts';

export const MAX_RESULT_WINDOW = 10_000;
const MAX_HISTOGRAM_BUCKETS = 2_000;

export interface LogsRoutesOptions extends TailRouteOptions {
  logStore: LogSearchStore;
  cache: SearchCache;
  /** Read per search: admins change it through system_config. */
  cacheTtlMs: () => number;
  now: () => number;
}

interface SearchBody {
  query?: string;
  services?: string[];
  levels?: string[];
  start_time?: string;
  end_time?: string;
  limit: number;
  offset: number;
  cursor?: string;
}

const listQuery = (what: string) =>
  ({
    type: 'array',
    maxItems: 100,
    items: { type: 'string', minLength: 1, maxLength: 2000 },
    description: `${what}: repeat the parameter or separate with commas`,
  }) as const;

const filterQueryProps = {
  query: { type: 'string', maxLength: 1000 },
  services: listQuery('Services'),
  levels: listQuery('Levels'),
  start_time: timeSchema,
  end_time: timeSchema,
} as const;

const aggregationsSchema = {
  type: 'object',
  properties: { by_level: ref('CountMap'), by_service: ref('CountMap') },
} as const;

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

export const logsRoutes = namedPlugin<LogsRoutesOptions>(
  'logflow-logs-routes',
  async (app: FastifyInstance, opts) => {
    app.post<{ Body: SearchBody }>(
      '/api/v1/logs/search',
      {
        schema: {
          tags: ['logs'],
          summary: 'Full-text search with filters, aggregations and paging (offset or cursor)',
          body: {
            type: 'object',
            additionalProperties: false,
            properties: {
              query: { type: 'string', maxLength: 1000, description: 'Plain words, never query syntax' },
              services: {
                type: 'array',
                maxItems: 100,
                items: { type: 'string', minLength: 1, maxLength: 200 },
              },
              levels: { type: 'array', maxItems: 10, items: levelSchema },
              start_time: timeSchema,
              end_time: timeSchema,
              limit: { type: 'integer', minimum: 1, maximum: 1000, default: 50 },
              offset: { type: 'integer', minimum: 0, maximum: MAX_RESULT_WINDOW, default: 0 },
              cursor: {
                type: 'string',
                minLength: 1,
                maxLength: 2000,
                description: 'next_cursor of the previous page',
              },
            },
          },
          response: {
            200: {
              type: 'object',
              required: ['total', 'logs', 'aggregations', 'query_time_ms'],
              properties: {
                total: { type: 'integer' },
                logs: { type: 'array', items: ref('LogDocument') },
                aggregations: aggregationsSchema,
                query_time_ms: { type: 'number' },
                next_cursor: { type: 'string' },
              },
            },
          },
        },
      },
      async (request, reply) => {
        const b = request.body ?? ({ limit: 50, offset: 0 } as SearchBody);
        if (b.cursor === undefined && b.offset + b.limit > MAX_RESULT_WINDOW) {
          throw invalid(`offset + limit must be at most ${MAX_RESULT_WINDOW}; page further with cursor`, {
            max_result_window: MAX_RESULT_WINDOW,
          });
        }
        const { start, end } = timeBounds(b);
        const query: LogSearchQuery = {
          query: b.query?.trim() || undefined,
          services: b.services?.length ? b.services : undefined,
          levels: b.levels?.length ? b.levels : undefined,
          start_time: start,
          end_time: end,
          limit: b.limit,
          offset: b.cursor ? 0 : b.offset,
          cursor: b.cursor,
        };
        const t0 = performance.now();
        const key = searchCacheKey(query);
        let result: LogSearchResult | undefined;
        try {
          result = await opts.cache.get(key);
        } catch (err) {
          request.log.warn({ err }, 'search cache read failed');
        }
        reply.header('x-cache', result ? 'hit' : 'miss');
        if (!result) {
          result = await opts.logStore.search(query);
          const ttl = opts.cacheTtlMs();
          if (ttl > 0)
            opts.cache
              .set(key, result, ttl)
              .catch((err) => request.log.warn({ err }, 'search cache write failed'));
        }
        return { ...result, query_time_ms: round(performance.now() - t0) };
      },
    );

    app.get<{ Querystring: { limit: number; level?: string } }>(
      '/api/v1/logs/recent',
      {
        schema: {
          tags: ['logs'],
          summary: 'The newest logs, optionally of one level',
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              limit: { type: 'integer', minimum: 1, maximum: 1000, default: 50 },
              level: levelSchema,
            },
          },
          response: {
            200: {
              type: 'object',
              required: ['logs', 'count'],
              properties: { count: { type: 'integer' }, logs: { type: 'array', items: ref('LogDocument') } },
            },
          },
        },
      },
      async (request) => {
        const logs = await opts.logStore.recent(request.query.limit, request.query.level);
        return { count: logs.length, logs };
      },
    );

    app.get<{
      Querystring: {
        query?: string;
        services?: string[];
        levels?: string[];
        start_time?: string;
        end_time?: string;
        interval: string;
      };
    }>(
      '/api/v1/logs/histogram',
      {
        schema: {
          tags: ['logs'],
          summary: 'Log counts per time bucket (by level) for charts; default range: the last hour',
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              ...filterQueryProps,
              interval: {
                type: 'string',
                default: 'auto',
                pattern: `^auto$|${DURATION_PATTERN}`,
                description: '"auto" (about 60 buckets) or a duration such as 30s, 1m, 5m, 1h, 1d',
              },
            },
          },
          response: {
            200: {
              type: 'object',
              required: ['interval_ms', 'start_time', 'end_time', 'buckets'],
              properties: {
                interval_ms: { type: 'integer' },
                start_time: { type: 'string', format: 'date-time' },
                end_time: { type: 'string', format: 'date-time' },
                total: { type: 'integer' },
                buckets: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {
                      timestamp: { type: 'string', format: 'date-time' },
                      key: { type: 'integer' },
                      count: { type: 'integer' },
                      by_level: ref('CountMap'),
                    },
                  },
                },
              },
            },
          },
        },
      },
      async (request) => {
        const q = request.query;
        const bounds = timeBounds(q);
        const end = bounds.end ?? opts.now();
        const start = bounds.start ?? end - 3_600_000;
        if (start > end) throw invalid('start_time must not be after end_time');
        const span = Math.max(1, end - start);
        const intervalMs =
          q.interval === 'auto'
            ? Math.max(1000, Math.ceil(span / 60 / 1000) * 1000)
            : parseDuration(q.interval);
        if (span / intervalMs > MAX_HISTOGRAM_BUCKETS) {
          throw invalid(`interval too small: at most ${MAX_HISTOGRAM_BUCKETS} buckets per histogram`);
        }
        const buckets = await opts.logStore.histogram(
          {
            query: q.query?.trim() || undefined,
            services: splitList(q.services, 'services'),
            levels: splitList(q.levels, 'levels', LEVELS),
            start_time: start,
            end_time: end,
          },
          intervalMs,
        );
        return {
          interval_ms: intervalMs,
          start_time: new Date(start).toISOString(),
          end_time: new Date(end).toISOString(),
          total: buckets.reduce((n, b) => n + b.count, 0),
          buckets: buckets.map((b) => ({
            timestamp: new Date(b.key).toISOString(),
            key: b.key,
            count: b.count,
            by_level: b.by_level,
          })),
        };
      },
    );

    registerTailRoute(app, opts, filterQueryProps);

    app.get<{ Params: { log_id: string } }>(
      '/api/v1/logs/:log_id',
      {
        schema: {
          tags: ['logs'],
          summary: 'One log by id',
          params: {
            type: 'object',
            required: ['log_id'],
            additionalProperties: false,
            properties: { log_id: { type: 'string', minLength: 1, maxLength: 256 } },
          },
          response: { 200: ref('LogDocument') },
        },
      },
      async (request) => {
        const log = await opts.logStore.get(request.params.log_id);
        if (!log) throw notFound(`Log ${request.params.log_id}`);
        return log;
      },
    );
  },
  ['logflow-auth'],
);
