import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Fastify from 'fastify';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderErrorCodesTable } from '../../../api/errors-doc.ts';
import { logsRoutes } from '../../../api/routes/logs.ts';
import { MemorySearchCache } from '../../../api/search-cache.ts';
import { buildServer } from '../../../api/server.ts';
import { loadConfig } from '../../../common/config.ts';
import { ERROR_CODES } from '../../../common/errors.ts';
import type { LogSearchStore } from '../../../storage/logs/types.ts';
import { bearer, errorCode, type Harness, startHarness } from './harness.ts';

const ROOT = join(import.meta.dirname, '../../..');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (name === 'node_modules' || name.startsWith('.')) return [];
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.(ts|js)$/.test(name) ? [path] : [];
  });
}

describe('error codes are documented', () => {
  it('every LF_ERR_ code used in the source is defined in common/errors.ts', () => {
    const used = new Set<string>();
    for (const dir of ['api', 'storage', 'common', 'topology', 'connectors', 'pipeline', 'cli']) {
      let files: string[] = [];
      try {
        files = sourceFiles(join(ROOT, dir));
      } catch {
        continue;
      }
      for (const file of files)
        for (const m of readFileSync(file, 'utf8').matchAll(/LF_ERR_[A-Z0-9_]+/g)) used.add(m[0]);
    }
    const undefinedCodes = [...used].filter((c) => !(c in ERROR_CODES));
    expect(undefinedCodes).toEqual([]);
  });

  it('the rendered table lists every code with its HTTP status', () => {
    const table = renderErrorCodesTable();
    for (const [code, { status }] of Object.entries(ERROR_CODES))
      expect(table).toContain(`| \`${code}\` | ${status} |`);
  });

  // Fails until README.md has the error table (render it with renderErrorCodesTable()).
  it('README.md mentions every code in ERROR_CODES', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const missing = Object.keys(ERROR_CODES).filter((code) => !readme.includes(code));
    expect(missing).toEqual([]);
  });
});

describe('error shape for every non-2xx', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ bodyLimit: 64 * 1024 });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('oversized body → 413, bad JSON → 400, wrong content type → 415, unknown route → 404', async () => {
    const auth = bearer(h.adminToken);
    const big = await h.app.inject({
      method: 'POST',
      url: '/api/v1/logs/search',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: JSON.stringify({ query: 'x'.repeat(100 * 1024) }),
    });
    expect(big.statusCode).toBe(413);
    expect(errorCode(big)).toBe('LF_ERR_PAYLOAD_TOO_LARGE');
    const badJson = await h.app.inject({
      method: 'POST',
      url: '/api/v1/alerts/rules',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: '{"name": ',
    });
    expect(badJson.statusCode).toBe(400);
    expect(errorCode(badJson)).toBe('LF_ERR_BAD_REQUEST');
    const text = await h.app.inject({
      method: 'POST',
      url: '/api/v1/alerts/rules',
      headers: { ...auth, 'content-type': 'text/plain' },
      payload: 'hello',
    });
    expect(text.statusCode).toBe(415);
    expect(errorCode(text)).toBe('LF_ERR_UNSUPPORTED_MEDIA_TYPE');
    for (const [method, url] of [
      ['GET', '/nope'],
      ['DELETE', '/api/v1/logs/recent'],
      ['GET', '/api/v2/logs'],
    ]) {
      const res = await h.app.inject({ method: method as 'GET', url, headers: auth });
      expect(res.statusCode, url).toBe(404);
      expect(errorCode(res)).toBe('LF_ERR_NOT_FOUND');
    }
  });

  it('an unexpected failure is 500 LF_ERR_INTERNAL with no stack or internal message', async () => {
    const failing = new Proxy(h.logStore, {
      get(target, prop) {
        if (prop === 'search') return async () => Promise.reject(new Error('secret at /srv/app/file.ts:12'));
        const v = Reflect.get(target, prop);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    }) as LogSearchStore;
    const app = buildServer({
      config: loadConfig({}, { jwtSecret: 'x' }),
      logStore: failing,
      metricsView: h.metricsView,
      db: h.db,
    });
    const res = await app.inject({
      method: 'POST',
      url: '/api/v1/logs/search',
      headers: { 'x-api-key': h.apiKey },
      payload: {},
    });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ code: 'LF_ERR_INTERNAL', message: 'Internal error', details: null });
    expect(res.body).not.toContain('secret');
    await app.close();
  });

  it('health: 503 with both the error shape and the report when a required dependency is down', async () => {
    const make = (required: boolean) =>
      buildServer({
        config: loadConfig({}, { jwtSecret: 'x' }),
        logStore: h.logStore,
        metricsView: h.metricsView,
        db: h.db,
        healthChecks: {
          postgres: { check: async () => true },
          elasticsearch: { check: async () => Promise.reject(new Error('connect ECONNREFUSED')), required },
          redis: { check: async () => false, required: false },
        },
      });
    const down = make(true);
    const res = await down.inject({ url: '/health' });
    expect(res.statusCode).toBe(503);
    expect(errorCode(res)).toBe('LF_ERR_SERVICE_UNAVAILABLE');
    expect(res.json()).toMatchObject({
      status: 'down',
      mode: 'embedded',
      dependencies: {
        postgres: { status: 'up' },
        elasticsearch: { status: 'down', error: 'connect ECONNREFUSED', required: true },
        redis: { status: 'down' },
      },
    });
    expect(typeof res.json().dependencies.postgres.latency_ms).toBe('number');
    const degraded = make(false);
    const ok = await degraded.inject({ url: '/health' });
    expect(ok.statusCode).toBe(200);
    expect(ok.json().status).toBe('degraded');
    await down.close();
    await degraded.close();
  });

  it('/metrics: the HTTP latency histogram by route template, plus what the registry has', async () => {
    await h.app.inject({ url: '/api/v1/logs/abc', headers: bearer(h.adminToken) });
    const res = await h.app.inject({ url: '/metrics' });
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.body).toMatch(
      /logflow_http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/logs\/:log_id",status_code="404"\} 1/,
    );
    expect(res.body).not.toContain('/api/v1/logs/abc"');
    const shared = new Registry();
    shared.registerMetric(
      new (await import('prom-client')).Counter({
        name: 'logflow_pipeline_records_total',
        help: 'x',
        registers: [],
      }),
    );
    const app = buildServer({
      config: loadConfig({}, { jwtSecret: 'x' }),
      logStore: h.logStore,
      metricsView: h.metricsView,
      db: h.db,
      registry: shared,
    });
    expect((await app.inject({ url: '/metrics' })).body).toContain('logflow_pipeline_records_total');
    await app.close();
  });

  it('OpenAPI 3 at /openapi.json documents every route with the error shape; Swagger UI at /docs', async () => {
    const doc = (await h.app.inject({ url: '/openapi.json' })).json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/v1/logs/search',
        '/api/v1/logs/recent',
        '/api/v1/logs/{log_id}',
        '/api/v1/logs/histogram',
        '/api/v1/logs/tail',
        '/api/v1/metrics/overview',
        '/api/v1/metrics/service/{service_name}',
        '/api/v1/metrics/system',
        '/api/v1/metrics/timeseries',
        '/api/v1/alerts/rules',
        '/api/v1/alerts/rules/{id}',
        '/api/v1/alerts/history',
        '/api/v1/alerts/history/{id}/acknowledge',
        '/api/v1/alerts/silences',
        '/api/v1/alerts/silences/{id}',
        '/api/v1/auth/login',
        '/api/v1/auth/api-keys',
        '/api/v1/users',
        '/api/v1/users/{id}',
        '/api/v1/config',
        '/health',
        '/metrics',
      ]),
    );
    for (const [path, ops] of Object.entries(
      doc.paths as Record<string, Record<string, { responses: object }>>,
    )) {
      for (const [method, op] of Object.entries(ops)) {
        expect(Object.keys(op.responses), `${method} ${path}`).toEqual(
          expect.arrayContaining(['4XX', '5XX']),
        );
      }
    }
    expect(doc.components.schemas.ErrorResponse).toBeDefined();
    const ui = await h.app.inject({ url: '/docs/' });
    expect(ui.statusCode).toBe(200);
    expect(ui.body).toContain('swagger');
  });

  it('a route plugin registered without its dependency (auth) fails at startup', async () => {
    const app = Fastify();
    app.register(logsRoutes, {
      logStore: h.logStore,
      cache: new MemorySearchCache(),
      cacheTtlMs: () => 0,
      now: Date.now,
      heartbeatMs: 1000,
    });
    await expect(app.ready()).rejects.toThrow(/logflow-auth/);
  });
});
