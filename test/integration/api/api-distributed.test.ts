/**
 * The API in the distributed mode on the real services: PostgreSQL (a random database, migrated
 * from empty), Elasticsearch (random index prefix), Redis (metric windows and the search cache
 * under random key prefixes). Everything created here is removed afterwards.
 */
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureAdmin } from '../../../api/auth/bootstrap.ts';
import { RedisSearchCache } from '../../../api/search-cache.ts';
import { buildServer } from '../../../api/server.ts';
import { loadConfig } from '../../../common/config.ts';
import { openPostgresDatabase, type PostgresDatabase } from '../../../storage/db/postgres-database.ts';
import type { AlertRuleChange } from '../../../storage/db/types.ts';
import { ElasticsearchLogStore } from '../../../storage/logs/elasticsearch-store.ts';
import type { ParsedLog } from '../../../storage/logs/types.ts';
import { RedisMetricsView } from '../../../storage/metrics/redis-view.ts';
import { randomName } from '../../helpers/names.ts';
import { waitFor } from '../../helpers/wait-for.ts';
import { randomDatabase } from './pg-helpers.ts';

const config = loadConfig(process.env, { mode: 'kafka' });
const SERVICES = ['payment-service', 'auth-service', 'user-service', 'order-service', 'inventory-service'];
const LEVELS = ['INFO', 'INFO', 'INFO', 'WARN', 'ERROR', 'DEBUG'] as const;
const NOW = Date.now();
const MIN = 60_000;

function logs(n: number): ParsedLog[] {
  return Array.from({ length: n }, (_, i) => ({
    id: `it-${i}`,
    timestamp: NOW - (i % 50) * MIN - 1000,
    level: LEVELS[i % LEVELS.length],
    service: SERVICES[i % SERVICES.length],
    message: i % 7 === 0 ? `Database connection timeout after ${i} ms` : `Request ${i} handled`,
    source: { hostname: 'it-host', file: 'app.log' },
    extra_fields: { n: String(i) },
    ingested_at: NOW,
  }));
}

describe('API on PostgreSQL, Elasticsearch and Redis', () => {
  const target = randomDatabase();
  const cachePrefix = `${randomName('lfit-cache')}:`;
  let db: PostgresDatabase;
  let logStore: ElasticsearchLogStore;
  let metricsView: RedisMetricsView;
  let redis: Redis;
  let app: FastifyInstance;
  let token: string;
  const indexed = logs(300);

  beforeAll(async () => {
    db = await openPostgresDatabase(target.url);
    logStore = new ElasticsearchLogStore({
      node: config.elasticsearchUrl,
      indexPrefix: randomName('lfit-api'),
    });
    metricsView = new RedisMetricsView({ url: config.redisUrl, prefix: `${randomName('lfit-mv')}:` });
    redis = new Redis(config.redisUrl);
    await ensureAdmin(db, { adminPassword: 'integration-admin-pw' }, () => {});
    await logStore.index(indexed);
    app = buildServer({
      config: { ...config, databaseUrl: target.url, jwtSecret: undefined },
      logStore,
      metricsView,
      db,
      searchCache: new RedisSearchCache(redis, cachePrefix),
    });
    await app.ready();
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { username: 'admin', password: 'integration-admin-pw' },
    });
    expect(res.statusCode).toBe(200);
    token = res.json().token;
  });

  afterAll(async () => {
    await app?.close();
    await logStore?.destroy().catch(() => {});
    await logStore?.close();
    await metricsView?.clear().catch(() => {});
    await metricsView?.close();
    if (redis) {
      const keys = await redis.keys(`${cachePrefix}*`);
      if (keys.length) await redis.del(...keys);
      await redis.quit();
    }
    await db?.close();
    await target.drop();
  });

  const auth = () => ({ authorization: `Bearer ${token}` });

  it('migrated from empty, and the JWT secret was generated once into system_config', async () => {
    const { rows } = await db.pool.query('SELECT version FROM schema_migrations ORDER BY version');
    expect(rows).toEqual([{ version: '001' }, { version: '002' }]);
    expect(typeof (await db.systemConfig.get('internal.jwt_secret'))).toBe('string');
  });

  it('health reports each real dependency as up', async () => {
    const res = await app.inject({ url: '/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      status: 'ok',
      mode: 'kafka',
      dependencies: {
        search_store_elasticsearch: { status: 'up' },
        metrics_view_redis: { status: 'up' },
        database_postgres: { status: 'up' },
      },
    });
  });

  it('search results equal what was indexed (filters, text, aggregations, cursor paging)', async () => {
    const search = (payload: object) =>
      app.inject({ method: 'POST', url: '/api/v1/logs/search', headers: auth(), payload });
    const all = (await search({ limit: 1000 })).json();
    expect(all.total).toBe(indexed.length);
    expect(new Set(all.logs.map((l: { id: string }) => l.id))).toEqual(new Set(indexed.map((l) => l.id)));

    const expected = indexed.filter(
      (l) =>
        l.service === 'payment-service' &&
        ['ERROR', 'WARN'].includes(l.level) &&
        l.message.includes('timeout'),
    );
    const filtered = (
      await search({
        query: 'database timeout',
        services: ['payment-service'],
        levels: ['ERROR', 'WARN'],
        limit: 100,
      })
    ).json();
    expect(filtered.total).toBe(expected.length);
    expect(filtered.logs.map((l: { id: string }) => l.id).sort()).toEqual(expected.map((l) => l.id).sort());

    const byLevel: Record<string, number> = {};
    for (const l of indexed) byLevel[l.level] = (byLevel[l.level] ?? 0) + 1;
    expect(all.aggregations.by_level).toEqual(byLevel);

    // Query syntax is never interpreted: Lucene/ES operators are plain text and never a 5xx.
    for (const query of [
      'timeout" OR *:*',
      'level:ERROR AND (',
      '/regex.*/',
      'a~2 b^3',
      '\\',
      '{!x}[]',
      '+-&&||!',
    ]) {
      const res = await search({ query });
      expect(res.statusCode, query).toBe(200);
    }
    expect((await search({ query: '*:*' })).json().total).toBe(0);

    const doc = (await app.inject({ url: '/api/v1/logs/it-7', headers: auth() })).json();
    expect(doc).toMatchObject({ id: 'it-7', service: indexed[7].service, extra_fields: { n: '7' } });

    const seen = new Set<string>();
    let cursor: string | undefined;
    for (let page = 0; page < 20; page++) {
      const body = (await search({ limit: 40, ...(cursor ? { cursor } : {}) })).json();
      for (const l of body.logs) seen.add(l.id);
      cursor = body.next_cursor;
      if (!cursor) break;
    }
    expect(seen.size).toBe(indexed.length);
  });

  it('repeated identical searches are served from the Redis cache', async () => {
    const payload = { query: 'handled', levels: ['INFO'], limit: 5 };
    const first = await app.inject({ method: 'POST', url: '/api/v1/logs/search', headers: auth(), payload });
    expect(first.headers['x-cache']).toBe('miss');
    await waitFor(async () => (await redis.keys(`${cachePrefix}*`)).length > 0, {
      what: 'a cache entry in Redis',
    });
    const second = await app.inject({ method: 'POST', url: '/api/v1/logs/search', headers: auth(), payload });
    expect(second.headers['x-cache']).toBe('hit');
    expect(second.json().total).toBe(first.json().total);
    const ttl = await redis.pttl((await redis.keys(`${cachePrefix}*`))[0]);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(5000);
  });

  it('metrics from the Redis windows equal a recount', async () => {
    const start = Math.floor(NOW / MIN) * MIN - 5 * MIN;
    await metricsView.upsert(
      SERVICES.map((service, i) => ({
        service,
        window_start: start,
        window_end: start + MIN,
        counts: { INFO: 10 * (i + 1), ERROR: i },
        total: 11 * i + 10,
        error_rate: i / (11 * i + 10),
        version: 1,
      })),
    );
    const overview = (
      await app.inject({ url: '/api/v1/metrics/overview?time_range=15m', headers: auth() })
    ).json();
    const total = SERVICES.reduce((n, _s, i) => n + 11 * i + 10, 0);
    expect(overview.total_logs).toBe(total);
    expect(overview.by_level).toEqual({ INFO: 150, ERROR: 10 });
    expect(overview.by_service['inventory-service']).toBe(54);
    const series = (
      await app.inject({
        url: '/api/v1/metrics/timeseries?interval=1m&time_range=15m&service=auth-service',
        headers: auth(),
      })
    ).json();
    expect(series.points.reduce((n: number, p: { total: number }) => n + p.total, 0)).toBe(21);
    const svc = (
      await app.inject({ url: '/api/v1/metrics/service/payment-service?time_range=1h', headers: auth() })
    ).json();
    const paymentErrors = indexed.filter(
      (l) => l.service === 'payment-service' && l.level === 'ERROR' && l.timestamp >= NOW - 3_600_000,
    );
    expect(svc.top_errors.reduce((n: number, e: { count: number }) => n + e.count, 0)).toBe(
      paymentErrors.length,
    );
  });

  it('rule CRUD through the API is seen by another process’s watch() (LISTEN/NOTIFY)', async () => {
    const alertStage = await openPostgresDatabase(target.url);
    try {
      const changes: AlertRuleChange[] = [];
      const stop = alertStage.alertRules.watch((c) => c.op !== 'reload' && changes.push(c));
      await alertStage.watchReady();
      const created = await app.inject({
        method: 'POST',
        url: '/api/v1/alerts/rules',
        headers: auth(),
        payload: { name: 'it-rule', condition: 'count_above', threshold: 5, window_seconds: 60 },
      });
      expect(created.statusCode).toBe(201);
      const id = created.json().id;
      await app.inject({
        method: 'PATCH',
        url: `/api/v1/alerts/rules/${id}`,
        headers: auth(),
        payload: { threshold: 7 },
      });
      await app.inject({ method: 'DELETE', url: `/api/v1/alerts/rules/${id}`, headers: auth() });
      await waitFor(() => changes.length >= 3, { what: 'three NOTIFYs' });
      expect(changes).toEqual([
        { op: 'created', id },
        { op: 'updated', id },
        { op: 'deleted', id },
      ]);
      await stop();
    } finally {
      await alertStage.close();
    }
  });
});
