import type { FastifyInstance } from 'fastify';
import { Histogram, type Registry } from 'prom-client';
import type { Mode } from '../../common/config.ts';
import { type HealthChecks, runHealthChecks } from '../health.ts';
import { namedPlugin } from '../plugin.ts';

export interface OperationsOptions {
  mode: Mode;
  healthChecks: HealthChecks;
  registry: Registry;
}

const HTTP_DURATION = 'logflow_http_request_duration_seconds';

/** GET /health, GET /metrics (Prometheus) and the HTTP latency histogram behind it. */
export const operationsRoutes = namedPlugin<OperationsOptions>(
  'logflow-operations',
  async (app: FastifyInstance, { mode, healthChecks, registry }) => {
    // One registry may serve several servers (tests, or the pipeline's registry): reuse the metric.
    const histogram =
      (registry.getSingleMetric(HTTP_DURATION) as
        | Histogram<'method' | 'route' | 'status_code'>
        | undefined) ??
      new Histogram({
        name: HTTP_DURATION,
        help: 'HTTP request latency by route template',
        labelNames: ['method', 'route', 'status_code'],
        buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
        registers: [registry],
      });
    const started = new WeakMap<object, bigint>();
    app.addHook('onRequest', async (request) => {
      started.set(request, process.hrtime.bigint());
    });
    app.addHook('onResponse', async (request, reply) => {
      const t0 = started.get(request);
      if (t0 === undefined) return;
      // Route templates (not URLs) keep the label set small.
      const route = request.routeOptions.url ?? 'unmatched';
      histogram.observe(
        { method: request.method, route, status_code: String(reply.statusCode) },
        Number(process.hrtime.bigint() - t0) / 1e9,
      );
    });

    const dependency = {
      type: 'object',
      properties: {
        status: { type: 'string', enum: ['up', 'down'] },
        required: { type: 'boolean' },
        latency_ms: { type: 'number' },
        error: { type: 'string' },
      },
    } as const;
    const healthBody = {
      type: 'object',
      required: ['status', 'mode', 'dependencies'],
      properties: {
        status: { type: 'string', enum: ['ok', 'degraded', 'down'] },
        mode: { type: 'string' },
        dependencies: { type: 'object', additionalProperties: dependency },
      },
    } as const;

    app.get(
      '/health',
      {
        schema: {
          tags: ['operations'],
          summary: 'Each dependency with its latency; 503 when a required one is down (no auth)',
          security: [],
          response: {
            200: healthBody,
            // The error shape and the health report in one body, so both kinds of client read it.
            503: {
              type: 'object',
              required: ['code', 'message', 'details', 'status', 'mode', 'dependencies'],
              properties: {
                code: { type: 'string' },
                message: { type: 'string' },
                details: {},
                ...healthBody.properties,
              },
            },
          },
        },
      },
      async (_request, reply) => {
        const { status, dependencies } = await runHealthChecks(healthChecks);
        if (status === 'down') {
          const down = Object.keys(dependencies).filter(
            (n) => dependencies[n].status === 'down' && dependencies[n].required,
          );
          return reply.code(503).send({
            code: 'LF_ERR_SERVICE_UNAVAILABLE',
            message: `Required dependencies down: ${down.join(', ')}`,
            details: { down },
            status,
            mode,
            dependencies,
          });
        }
        return { status, mode, dependencies };
      },
    );

    app.get(
      '/metrics',
      {
        schema: {
          tags: ['operations'],
          summary: 'Prometheus metrics: HTTP latency plus the pipeline when in-process (no auth)',
          security: [],
          response: { 200: { type: 'string' } },
        },
      },
      async (_request, reply) => {
        reply.type(registry.contentType);
        return registry.metrics();
      },
    );
  },
);
