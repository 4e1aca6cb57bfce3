/**
 * `npm run bench -- api [--logs N] [--store sqlite|elasticsearch] [--metrics memory|redis]
 *                        [--requests R] [--health-seconds S] [--concurrency C]`
 *
 * The API over real HTTP (keep-alive fetch against a listening server) on a search store holding
 * N logs (default 1,000,000, spread over the last 24 h; SQLite FTS5 by default — the embedded mode
 * — or Elasticsearch with a random index prefix) and metric windows for 24 h. Measures p50/p95/p99
 * of searches (the repeated-search cache is bypassed so every search hits the store), the metrics
 * endpoints, and GET /health requests/s at concurrency C as the server's ceiling.
 * Prints a table and writes bench/results/api-<date>.json. Everything it creates is removed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { generateApiKey } from '../api/auth/api-key.ts';
import type { SearchCache } from '../api/search-cache.ts';
import { buildServer } from '../api/server.ts';
import { loadConfig } from '../common/config.ts';
import { rootLogger } from '../common/logger.ts';
import { dailyIndexName, toEsSource } from '../connectors/elasticsearch/log-document.ts';
import { openSqliteDatabase } from '../storage/db/sqlite-database.ts';
import { ElasticsearchLogStore } from '../storage/logs/elasticsearch-store.ts';
import { SqliteLogStore } from '../storage/logs/sqlite-store.ts';
import type { Level, LogSearchStore, ParsedLog } from '../storage/logs/types.ts';
import { MemoryMetricsView } from '../storage/metrics/memory-view.ts';
import { RedisMetricsView } from '../storage/metrics/redis-view.ts';
import type { MetricsView, MetricWindow } from '../storage/metrics/types.ts';
import { randomName } from '../test/helpers/names.ts';
import { printTable, writeResults } from './results.ts';

export const description =
  'API latency over real HTTP: search p50/p95 on 1M indexed logs, metrics endpoints, /health requests/s';

const SERVICES = ['payment-service', 'auth-service', 'user-service', 'order-service', 'inventory-service'];
const MESSAGES = [
  'Payment completed for order order_#',
  'Database connection timeout after # ms',
  'User login failed for user_#',
  'Cache miss for key session_#',
  'Inventory updated for sku_#',
  'Payment gateway unavailable',
  'Order # shipped to warehouse',
  'Token refresh succeeded for client_#',
];
const WORDS = ['timeout', 'payment', 'login failed', 'cache', 'inventory', 'gateway', 'shipped', 'token'];
const MIN = 60_000;
const HOUR = 3_600_000;
const DAY = 86_400_000;

function level(i: number): Level {
  const r = (i * 2654435761) % 100; // 70/15/10/5 like the generator, deterministic
  return r < 70 ? 'INFO' : r < 85 ? 'WARN' : r < 95 ? 'ERROR' : 'DEBUG';
}

/** Oldest first, as logs arrive: i = total - 1 is 24 h ago, i = 0 is now. */
function* batches(total: number, now: number, size = 10_000): Generator<ParsedLog[]> {
  for (let end = total; end > 0; end -= size) {
    const batch: ParsedLog[] = [];
    for (let i = end - 1; i >= Math.max(0, end - size); i--) {
      const ts = now - Math.floor((i / total) * DAY);
      batch.push({
        id: `bench-${i}`,
        timestamp: ts,
        level: level(i),
        service: SERVICES[i % SERVICES.length],
        message: MESSAGES[(i * 7) % MESSAGES.length].replace('#', String(i % 10_000)),
        source: { hostname: 'bench', file: 'app.log' },
        extra_fields: {},
        ingested_at: ts + 5,
      });
    }
    yield batch;
  }
}

/** 24 h of 1m windows per service, and the 1h rollups of the same counts (the aggregate stage emits both). */
function windows(now: number): MetricWindow[] {
  const out: MetricWindow[] = [];
  const last = Math.floor(now / MIN) * MIN;
  const hours = new Map<string, MetricWindow>();
  for (let m = 0; m < 24 * 60; m++) {
    for (const service of SERVICES) {
      const counts = { INFO: 70, WARN: 15, ERROR: 10, DEBUG: 5 };
      out.push({
        service,
        window_start: last - m * MIN,
        window_end: last - m * MIN + MIN,
        counts,
        total: 100,
        error_rate: 0.1,
        version: 1,
        resolution: '1m',
      });
      const hour = Math.floor((last - m * MIN) / HOUR) * HOUR;
      const rollup = hours.get(`${service} ${hour}`) ?? {
        service,
        window_start: hour,
        window_end: hour + HOUR,
        counts: {},
        total: 0,
        error_rate: 0.1,
        version: 1,
        resolution: '1h' as const,
      };
      for (const [level, n] of Object.entries(counts)) rollup.counts[level] = (rollup.counts[level] ?? 0) + n;
      rollup.total += 100;
      hours.set(`${service} ${hour}`, rollup);
    }
  }
  return [...out, ...hours.values()];
}

/**
 * Bulk-loads Elasticsearch as a sink would at full speed: two bulk requests in flight, no
 * refresh per request, then one refresh and a force-merge to one segment per index so the
 * searches measure a settled index, not segments still merging under them.
 */
async function loadElasticsearch(store: ElasticsearchLogStore, total: number, now: number): Promise<void> {
  await store.ensureTemplate();
  const inFlight = new Set<Promise<void>>();
  for (const batch of batches(total, now, 5_000)) {
    const operations: unknown[] = [];
    for (const log of batch) {
      operations.push({ create: { _index: dailyIndexName(store.indexPrefix, log.timestamp), _id: log.id } });
      operations.push(toEsSource(log));
    }
    const request: Promise<void> = store.client.bulk({ operations, refresh: false }).then((r) => {
      inFlight.delete(request);
      if (r.errors) throw new Error(`bulk load: ${JSON.stringify(r.items.find((i) => i.create?.error))}`);
    });
    inFlight.add(request);
    if (inFlight.size >= 2) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  const index = `${store.indexPrefix}-*`;
  await store.client.indices.putSettings({ index, settings: { 'index.refresh_interval': '1s' } });
  await store.client.indices.refresh({ index });
  const t0 = performance.now();
  await store.client.indices.forcemerge({ index, max_num_segments: 1 }, { requestTimeout: 600_000 });
  console.log(`force-merged in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function measure(
  name: string,
  requests: number,
  make: (i: number) => { path: string; init?: RequestInit },
  base: string,
  headers: Record<string, string>,
): Promise<Record<string, string | number>> {
  const times: number[] = [];
  let errors = 0;
  for (let i = 0; i < requests + 5; i++) {
    const { path, init } = make(i);
    const t0 = performance.now();
    const res = await fetch(base + path, { ...init, headers: { ...headers, ...(init?.headers as object) } });
    await res.arrayBuffer();
    const ms = performance.now() - t0;
    if (!res.ok) errors++;
    if (i >= 5) times.push(ms); // the first few warm caches and JIT
  }
  times.sort((a, b) => a - b);
  console.log(
    `  ${name}: p50 ${percentile(times, 50).toFixed(1)} ms, p95 ${percentile(times, 95).toFixed(1)} ms`,
  );
  return {
    scenario: name,
    requests,
    p50_ms: percentile(times, 50),
    p95_ms: percentile(times, 95),
    p99_ms: percentile(times, 99),
    errors,
  };
}

async function throughput(
  url: string,
  seconds: number,
  concurrency: number,
): Promise<{ rps: number; errors: number }> {
  const deadline = performance.now() + seconds * 1000;
  let done = 0;
  let errors = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const res = await fetch(url);
        await res.arrayBuffer();
        if (res.ok) done++;
        else errors++;
      }
    }),
  );
  return { rps: done / seconds, errors };
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      logs: { type: 'string', default: '1000000' },
      store: { type: 'string', default: 'sqlite' },
      metrics: { type: 'string', default: 'memory' },
      requests: { type: 'string', default: '300' },
      'health-seconds': { type: 'string', default: '5' },
      concurrency: { type: 'string', default: '16' },
    },
  });
  rootLogger.level = 'warn';
  const total = Number(values.logs);
  const requests = Number(values.requests);
  const config = loadConfig();
  const now = Date.now();
  const dir = mkdtempSync(join(tmpdir(), 'logflow-bench-api-'));

  const logStore: LogSearchStore =
    values.store === 'elasticsearch'
      ? new ElasticsearchLogStore({
          node: config.elasticsearchUrl,
          indexPrefix: randomName('bench-api'),
          // Loaded with refreshes off; loadElasticsearch() sets 1s again before measuring.
          template: { refreshInterval: '-1' },
        })
      : SqliteLogStore.open({ path: join(dir, 'logs.sqlite') });
  const metricsView: MetricsView =
    values.metrics === 'redis'
      ? new RedisMetricsView({ url: config.redisUrl, prefix: `${randomName('bench-api')}:` })
      : new MemoryMetricsView();
  const db = openSqliteDatabase(':memory:');
  const key = generateApiKey();
  await db.apiKeys.create({
    name: 'bench',
    prefix: key.prefix,
    key_hash: key.hash,
    role: 'viewer',
    created_by: 'bench',
    expires_at: null,
  });
  // Every search must reach the store: a cache that never hits.
  const noCache: SearchCache = { get: async () => undefined, set: async () => {} };

  try {
    console.log(`indexing ${total.toLocaleString('en-US')} logs into ${logStore.kind} …`);
    const t0 = performance.now();
    if (logStore instanceof ElasticsearchLogStore) await loadElasticsearch(logStore, total, now);
    else for (const batch of batches(total, now)) await logStore.index(batch);
    const indexSeconds = (performance.now() - t0) / 1000;
    console.log(
      `indexed in ${indexSeconds.toFixed(1)} s (${Math.round(total / indexSeconds).toLocaleString('en-US')} logs/s); count = ${await logStore.count()}`,
    );
    await metricsView.upsert(windows(now));

    const app = buildServer({
      config,
      logStore,
      metricsView,
      db,
      searchCache: noCache,
      options: { docs: false },
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    const headers = { 'x-api-key': key.key, 'content-type': 'application/json' };
    const lastHour = new Date(now - 3_600_000).toISOString();
    const post = (body: object) => ({ method: 'POST', body: JSON.stringify(body) });
    const pick = <T>(xs: T[], i: number) => xs[i % xs.length];

    const rows = [
      await measure(
        'search: text + service + levels, last hour',
        requests,
        (i) => ({
          path: '/api/v1/logs/search',
          init: post({
            query: pick(WORDS, i),
            services: [pick(SERVICES, i * 3)],
            levels: ['ERROR', 'WARN'],
            start_time: lastHour,
            limit: 50,
          }),
        }),
        base,
        headers,
      ),
      await measure(
        'search: text only, last hour',
        requests,
        (i) => ({
          path: '/api/v1/logs/search',
          init: post({ query: pick(WORDS, i), start_time: lastHour, limit: 50 }),
        }),
        base,
        headers,
      ),
      await measure(
        'search: level filter, 24 h (aggregations over all)',
        Math.min(requests, 100),
        (i) => ({
          path: '/api/v1/logs/search',
          init: post({ levels: [pick(['ERROR', 'WARN', 'DEBUG'], i)], limit: 50 }),
        }),
        base,
        headers,
      ),
      await measure(
        'logs/recent?limit=50',
        requests,
        () => ({ path: '/api/v1/logs/recent?limit=50' }),
        base,
        headers,
      ),
      await measure(
        'logs/histogram last hour, 1m',
        Math.min(requests, 100),
        (i) => ({
          path: `/api/v1/logs/histogram?interval=1m&services=${pick(SERVICES, i)}`,
        }),
        base,
        headers,
      ),
      await measure(
        'metrics/overview?time_range=1h',
        requests,
        () => ({ path: '/api/v1/metrics/overview?time_range=1h' }),
        base,
        headers,
      ),
      await measure(
        'metrics/service (1h, top errors)',
        requests,
        (i) => ({ path: `/api/v1/metrics/service/${pick(SERVICES, i)}?time_range=1h` }),
        base,
        headers,
      ),
      await measure(
        'metrics/system?time_range=24h',
        requests,
        () => ({ path: '/api/v1/metrics/system?time_range=24h' }),
        base,
        headers,
      ),
      await measure(
        'metrics/timeseries 5m over 24h',
        requests,
        () => ({ path: '/api/v1/metrics/timeseries?interval=5m&time_range=24h' }),
        base,
        headers,
      ),
    ];
    const health = await throughput(
      `${base}/health`,
      Number(values['health-seconds']),
      Number(values.concurrency),
    );
    await app.close();

    console.log('');
    printTable(rows);
    console.log(
      `\nGET /health: ${Math.round(health.rps).toLocaleString('en-US')} requests/s at concurrency ${values.concurrency} (${health.errors} errors)`,
    );
    const file = writeResults('api', {
      store: logStore.kind,
      metrics_view: metricsView.kind,
      logs: total,
      index_seconds: indexSeconds,
      latency: rows,
      health_rps: health.rps,
      health_concurrency: Number(values.concurrency),
      // The machine is shared: a high load average means these figures are upper bounds.
      load_average_at_end: loadavg(),
    });
    console.log(`results: ${file}`);
  } finally {
    if (logStore instanceof ElasticsearchLogStore) await logStore.destroy().catch(() => {});
    if (metricsView.kind === 'redis') await metricsView.clear().catch(() => {});
    await logStore.close();
    await metricsView.close();
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// Runnable alone: `node --import tsx bench/api.ts [options]`.
if (import.meta.url === `file://${process.argv[1]}`) await run(process.argv.slice(2));
