import type { FastifyInstance } from 'fastify';
import { LogFlowError } from '../../common/errors.ts';
import type { LogSearchStore } from '../../storage/logs/types.ts';
import type { MetricsView } from '../../storage/metrics/types.ts';
import { namedPlugin } from '../plugin.ts';
import { ref } from '../schemas.ts';
import {
  INTERVAL_NAMES,
  INTERVALS,
  type Interval,
  TIME_RANGE_NAMES,
  TIME_RANGES,
  type TimeRange,
} from '../time.ts';

export interface MetricsRoutesOptions {
  metricsView: MetricsView;
  logStore: LogSearchStore;
  now: () => number;
}

const MAX_POINTS = 5_000;
const TOP_ERRORS = 10;
const ERROR_LEVELS = ['ERROR', 'FATAL'];

const timeRangeParam = { type: 'string', enum: TIME_RANGE_NAMES, default: '1h' } as const;
const serviceName = { type: 'string', minLength: 1, maxLength: 200 } as const;

const summaryProps = {
  total_logs: { type: 'integer' },
  logs_per_minute: { type: 'number' },
  by_level: ref('CountMap'),
  error_rate: { type: 'number', description: '(ERROR + FATAL) / total, 0 when there are no logs' },
} as const;

interface Totals {
  total: number;
  counts: Record<string, number>;
}

function summarise(t: Totals, rangeMs: number) {
  const errors = ERROR_LEVELS.reduce((n, l) => n + (t.counts[l] ?? 0), 0);
  return {
    total_logs: t.total,
    logs_per_minute: Math.round((t.total / (rangeMs / 60_000)) * 100) / 100,
    by_level: t.counts,
    error_rate: t.total > 0 ? Math.round((errors / t.total) * 10_000) / 10_000 : 0,
  };
}

function sum(all: Totals[]): Totals {
  const counts: Record<string, number> = {};
  let total = 0;
  for (const t of all) {
    total += t.total;
    for (const [level, n] of Object.entries(t.counts)) counts[level] = (counts[level] ?? 0) + n;
  }
  return { total, counts };
}

/** The seed's metrics endpoints, answered from the materialised metric windows. */
export const metricsRoutes = namedPlugin<MetricsRoutesOptions>(
  'logflow-metrics-routes',
  async (app: FastifyInstance, opts) => {
    const window = (range: TimeRange) => {
      const to = opts.now();
      return { from: to - TIME_RANGES[range], to, rangeMs: TIME_RANGES[range] };
    };

    app.get<{ Querystring: { time_range: TimeRange } }>(
      '/api/v1/metrics/overview',
      {
        schema: {
          tags: ['metrics'],
          summary: 'Total logs, logs per minute, distribution by level and service, error rate',
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: { time_range: timeRangeParam },
          },
          response: {
            200: {
              type: 'object',
              required: [
                'time_range',
                'total_logs',
                'logs_per_minute',
                'by_level',
                'by_service',
                'error_rate',
              ],
              properties: {
                time_range: { type: 'string' },
                ...summaryProps,
                by_service: ref('CountMap'),
                start_time: { type: 'string', format: 'date-time' },
                end_time: { type: 'string', format: 'date-time' },
              },
            },
          },
        },
      },
      async (request) => {
        const { from, to, rangeMs } = window(request.query.time_range);
        const byService = await opts.metricsView.byService(from, to);
        return {
          time_range: request.query.time_range,
          ...summarise(sum(Object.values(byService)), rangeMs),
          by_service: Object.fromEntries(Object.entries(byService).map(([s, t]) => [s, t.total])),
          start_time: new Date(from).toISOString(),
          end_time: new Date(to).toISOString(),
        };
      },
    );

    app.get<{ Params: { service_name: string }; Querystring: { time_range: TimeRange } }>(
      '/api/v1/metrics/service/:service_name',
      {
        schema: {
          tags: ['metrics'],
          summary: "One service's metrics and its most frequent error messages",
          params: {
            type: 'object',
            required: ['service_name'],
            additionalProperties: false,
            properties: { service_name: serviceName },
          },
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: { time_range: timeRangeParam },
          },
          response: {
            200: {
              type: 'object',
              required: [
                'service',
                'time_range',
                'total_logs',
                'logs_per_minute',
                'by_level',
                'error_rate',
                'top_errors',
              ],
              properties: {
                service: { type: 'string' },
                time_range: { type: 'string' },
                ...summaryProps,
                top_errors: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: { message: { type: 'string' }, count: { type: 'integer' } },
                  },
                },
              },
            },
          },
        },
      },
      async (request) => {
        const service = request.params.service_name;
        const { from, to, rangeMs } = window(request.query.time_range);
        const [byService, topErrors] = await Promise.all([
          opts.metricsView.byService(from, to),
          opts.logStore.topErrors(service, from, to, TOP_ERRORS),
        ]);
        return {
          service,
          time_range: request.query.time_range,
          ...summarise(byService[service] ?? { total: 0, counts: {} }, rangeMs),
          top_errors: topErrors,
        };
      },
    );

    app.get<{ Querystring: { time_range: TimeRange } }>(
      '/api/v1/metrics/system',
      {
        schema: {
          tags: ['metrics'],
          summary: 'System-wide metrics with a per-service breakdown',
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: { time_range: timeRangeParam },
          },
          response: {
            200: {
              type: 'object',
              required: ['time_range', 'total_logs', 'logs_per_minute', 'by_level', 'error_rate', 'services'],
              properties: {
                time_range: { type: 'string' },
                ...summaryProps,
                by_service: ref('CountMap'),
                services_count: { type: 'integer' },
                indexed_logs: { type: 'integer', description: 'Logs in the search store (all time)' },
                search_store: { type: 'string' },
                metrics_view: { type: 'string' },
                services: {
                  type: 'array',
                  items: { type: 'object', properties: { service: { type: 'string' }, ...summaryProps } },
                },
              },
            },
          },
        },
      },
      async (request) => {
        const { from, to, rangeMs } = window(request.query.time_range);
        const [byService, indexed] = await Promise.all([
          opts.metricsView.byService(from, to),
          opts.logStore.count(),
        ]);
        const services = Object.entries(byService)
          .map(([service, t]) => ({ service, ...summarise(t, rangeMs) }))
          .sort((a, b) => b.total_logs - a.total_logs || a.service.localeCompare(b.service));
        return {
          time_range: request.query.time_range,
          ...summarise(sum(Object.values(byService)), rangeMs),
          by_service: Object.fromEntries(services.map((s) => [s.service, s.total_logs])),
          services_count: services.length,
          indexed_logs: indexed,
          search_store: opts.logStore.kind,
          metrics_view: opts.metricsView.kind,
          services,
        };
      },
    );

    app.get<{ Querystring: { interval: Interval; time_range: TimeRange; service?: string } }>(
      '/api/v1/metrics/timeseries',
      {
        schema: {
          tags: ['metrics'],
          summary: 'Log counts per interval for charts (one service or all)',
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              interval: { type: 'string', enum: INTERVAL_NAMES, default: '5m' },
              time_range: timeRangeParam,
              service: serviceName,
            },
          },
          response: {
            200: {
              type: 'object',
              required: ['interval', 'time_range', 'service', 'points'],
              properties: {
                interval: { type: 'string' },
                time_range: { type: 'string' },
                service: { type: 'string', nullable: true },
                points: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {
                      timestamp: { type: 'string', format: 'date-time' },
                      total: { type: 'integer' },
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
        const { interval, time_range: range, service } = request.query;
        const bucket = INTERVALS[interval];
        const count = Math.ceil(TIME_RANGES[range] / bucket);
        if (count > MAX_POINTS) {
          throw new LogFlowError(
            'LF_ERR_UNSUPPORTED_RANGE',
            `interval ${interval} is too fine for time_range ${range}`,
            {
              details: {
                max_points: MAX_POINTS,
                supported_time_ranges: TIME_RANGE_NAMES,
                supported_intervals: INTERVAL_NAMES.filter(
                  (i) => TIME_RANGES[range] / INTERVALS[i] <= MAX_POINTS,
                ),
              },
            },
          );
        }
        // Buckets aligned to the interval so successive polls line up; the last one holds "now".
        const to = (Math.floor(opts.now() / bucket) + 1) * bucket;
        const from = to - count * bucket;
        const points = await opts.metricsView.series(from, to, bucket, service);
        return {
          interval,
          time_range: range,
          service: service ?? null,
          points: points.map((p) => ({
            timestamp: new Date(p.timestamp).toISOString(),
            total: p.total,
            by_level: p.counts,
          })),
        };
      },
    );
  },
  ['logflow-auth'],
);
