import AjvCompiler from '@fastify/ajv-compiler';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import { Registry } from 'prom-client';
import type { LogFlowConfig } from '../common/config.ts';
import { LogFlowError } from '../common/errors.ts';
import { createLogger, type Logger } from '../common/logger.ts';
import type { Database } from '../storage/db/types.ts';
import type { LogSearchStore } from '../storage/logs/types.ts';
import type { MetricsView } from '../storage/metrics/types.ts';
import { resolveJwtSecret } from './auth/bootstrap.ts';
import { authPlugin } from './auth/plugin.ts';
import { registerErrorHandling } from './errors.ts';
import type { HealthChecks } from './health.ts';
import { alertHistoryRoutes } from './routes/alert-history.ts';
import { alertRulesRoutes } from './routes/alert-rules.ts';
import { authRoutes } from './routes/auth.ts';
import { logsRoutes } from './routes/logs.ts';
import { metricsRoutes } from './routes/metrics.ts';
import { operationsRoutes } from './routes/operations.ts';
import { silencesRoutes } from './routes/silences.ts';
import { configRoutes } from './routes/system-config.ts';
import { usersRoutes } from './routes/users.ts';
import { addSharedSchemas, ref } from './schemas.ts';
import { MemorySearchCache, type SearchCache } from './search-cache.ts';
import type { TailSource } from './tail.ts';

/** Everything the API reads from; the caller owns (opens and closes) all of it. */
export interface ServerDeps {
  config: LogFlowConfig;
  logStore: LogSearchStore;
  metricsView: MetricsView;
  db: Database;
  /** Shown by GET /health; default: the search store, the metrics view and the database. */
  healthChecks?: HealthChecks;
  /** GET /metrics serves this registry (pass the pipeline's when it runs in-process). */
  registry?: Registry;
  /** The live tail's source; GET /api/v1/logs/tail answers 503 without one. */
  tail?: TailSource;
  /** Default: an in-process LRU (use createSearchCache(config) for Redis in the kafka mode). */
  searchCache?: SearchCache;
  options?: ServerOptions;
}

export interface ServerOptions {
  /** Largest accepted request body; larger ones get 413. Default 1 MiB. */
  bodyLimit?: number;
  /** Login attempts per client IP per window. Default 10 per minute. */
  loginRateLimit?: { max: number; timeWindow: number };
  /** Lifetime of login tokens. Default 12 hours. */
  tokenTtlSeconds?: number;
  /** SSE heartbeat period of the live tail. Default 15 s. */
  heartbeatMs?: number;
  /** Clock for metric ranges and silences (tests). */
  now?: () => number;
  /** Default: the `api` child of the LogFlow logger. */
  logger?: Logger;
  /** Serve Swagger UI at /docs. Default true. */
  docs?: boolean;
}

export const API_PREFIX = '/api/v1';

/**
 * Query strings and path parameters are text, so they are coerced ("50" → 50); JSON bodies have
 * real types, so a string where a number belongs is a 400 rather than silently converted.
 * (@fastify/ajv-compiler is fastify's own validator compiler, used here with two option sets.)
 */
function strictBodyValidator() {
  const factory = AjvCompiler();
  return (externalSchemas: unknown, options?: unknown) => {
    const ajvOptions = (options ?? {}) as { customOptions?: Record<string, unknown> };
    const coercing = factory(externalSchemas as never, ajvOptions as never);
    const strict = factory(
      externalSchemas as never,
      {
        ...ajvOptions,
        customOptions: { ...ajvOptions.customOptions, coerceTypes: false },
      } as never,
    );
    return (route: { httpPart?: string }) =>
      route.httpPart === 'body' ? strict(route as never) : coercing(route as never);
  };
}

/**
 * Builds the API (not listening: call `listen`, or `inject` in tests). Plugins are registered in
 * dependency order and named, so fastify rejects a wiring mistake at `ready()`.
 */
export function buildServer(deps: ServerDeps): FastifyInstance {
  const opts = deps.options ?? {};
  const now = opts.now ?? Date.now;
  const registry = deps.registry ?? new Registry();
  const app = Fastify({
    loggerInstance: opts.logger ?? createLogger('api'),
    bodyLimit: opts.bodyLimit ?? 1024 * 1024,
    // Unknown properties are a 400, not silently dropped.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true } },
    schemaController: { compilersFactory: { buildValidator: strictBodyValidator() } },
    // Per-request info lines would drown the pipeline's logs; errors are logged by the handler.
    logController: new LogController({ disableRequestLogging: true }),
    return503OnClosing: true,
  }) as unknown as FastifyInstance;

  let cacheTtlMs = 5_000;
  const cache = deps.searchCache ?? new MemorySearchCache();

  app.register(async (root) => {
    await registerErrorHandling(root);
    // The API speaks JSON only: other bodies are 415, not strings that fail validation later.
    root.removeContentTypeParser('text/plain');
    addSharedSchemas(root);

    // Every documented route gets the error shape for its 4xx/5xx answers; routes without
    // response schemas are a programming error caught at startup.
    root.addHook('onRoute', (route) => {
      const url = route.url;
      const ours = url.startsWith('/api/') || url === '/health' || url === '/metrics';
      if (!ours) return;
      if (!route.schema?.response)
        throw new LogFlowError('LF_ERR_CONFIG_INVALID', `Route ${url} has no response schema`);
      const response = route.schema.response as Record<string, unknown>;
      response['4xx'] ??= ref('ErrorResponse');
      response['5xx'] ??= ref('ErrorResponse');
    });

    await root.register(swagger, {
      openapi: {
        openapi: '3.0.3',
        info: {
          title: 'LogFlow API',
          version: '1.0.0',
          description:
            'Search, live tail, metrics, alerts and administration. Every error is {code, message, details}.',
        },
        components: {
          securitySchemes: {
            bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
            apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
          },
        },
        security: [{ bearerAuth: [] }, { apiKey: [] }],
      },
      refResolver: {
        buildLocalReference: (json, _baseUri, _fragment, i) =>
          typeof json.$id === 'string' ? json.$id : `def-${i}`,
      },
    });

    await root.register(rateLimit, {
      global: false,
      errorResponseBuilder: (_request, context) =>
        new LogFlowError('LF_ERR_RATE_LIMITED', `Too many requests; retry in ${context.after}`, {
          details: { retry_after_ms: context.ttl },
        }),
    });

    await root.register(authPlugin, {
      db: deps.db,
      secret: () => resolveJwtSecret(deps.db, deps.config),
      tokenTtlSeconds: opts.tokenTtlSeconds ?? 12 * 3600,
    });

    await root.register(operationsRoutes, {
      mode: deps.config.mode,
      registry,
      healthChecks: deps.healthChecks ?? {
        [`search_store_${deps.logStore.kind}`]: { check: () => deps.logStore.ping() },
        [`metrics_view_${deps.metricsView.kind}`]: { check: () => deps.metricsView.ping() },
        [`database_${deps.db.kind}`]: { check: () => deps.db.ping() },
      },
    });
    await root.register(authRoutes, {
      db: deps.db,
      loginRateLimit: opts.loginRateLimit ?? { max: 10, timeWindow: 60_000 },
    });
    await root.register(usersRoutes, { db: deps.db });
    await root.register(configRoutes, {
      db: deps.db,
      config: deps.config,
      onChange: (s) => {
        if (typeof s.search_cache_ttl_seconds === 'number') cacheTtlMs = s.search_cache_ttl_seconds * 1000;
      },
    });
    await root.register(logsRoutes, {
      logStore: deps.logStore,
      cache,
      cacheTtlMs: () => cacheTtlMs,
      now,
      tail: deps.tail,
      heartbeatMs: opts.heartbeatMs ?? 15_000,
    });
    await root.register(metricsRoutes, { metricsView: deps.metricsView, logStore: deps.logStore, now });
    await root.register(alertRulesRoutes, { db: deps.db });
    await root.register(alertHistoryRoutes, { db: deps.db, now });
    await root.register(silencesRoutes, { db: deps.db, now });

    root.get('/openapi.json', { schema: { hide: true } }, async () => root.swagger());
    if (opts.docs !== false) await root.register(swaggerUi, { routePrefix: '/docs' });
  });

  return app;
}
