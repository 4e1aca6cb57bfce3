import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../helpers/wait-for.ts';
import { bearer, errorCode, type Harness, makeLog, NOW, startHarness } from './harness.ts';

describe('logs routes', () => {
  let h: Harness;
  let auth: Record<string, string>;
  const search = (payload: unknown) =>
    h.app.inject({ method: 'POST', url: '/api/v1/logs/search', headers: auth, payload: payload as object });

  beforeAll(async () => {
    h = await startHarness();
    auth = bearer(h.adminToken);
    const logs = [
      makeLog({
        id: 'a1',
        level: 'ERROR',
        service: 'payment-service',
        message: 'Database connection timeout',
        timestamp: NOW - 30 * 60_000,
      }),
      makeLog({
        id: 'a2',
        level: 'ERROR',
        service: 'payment-service',
        message: 'Database connection timeout',
        timestamp: NOW - 20 * 60_000,
      }),
      makeLog({
        id: 'a3',
        level: 'WARN',
        service: 'payment-service',
        message: 'Slow database query',
        timestamp: NOW - 10 * 60_000,
      }),
      makeLog({
        id: 'a4',
        level: 'INFO',
        service: 'auth-service',
        message: 'User logged in',
        timestamp: NOW - 5 * 60_000,
        extra_fields: { user: 'u1' },
      }),
      makeLog({
        id: 'a5',
        level: 'ERROR',
        service: 'auth-service',
        message: 'Token expired" OR 1=1 -- (',
        timestamp: NOW - 2 * 60_000,
      }),
    ];
    for (let i = 0; i < 120; i++) {
      logs.push(
        makeLog({ id: `bulk-${i}`, service: 'order-service', timestamp: NOW - 3 * 3_600_000 + i * 1000 }),
      );
    }
    await h.logStore.index(logs);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('search with the seed body: filters, aggregations, query_time_ms', async () => {
    const res = await search({
      query: 'database timeout',
      services: ['payment-service'],
      levels: ['ERROR', 'WARN'],
      start_time: '2026-03-01 10:00:00',
      end_time: '2026-03-01T20:00:00Z',
      limit: 50,
      offset: 0,
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.total).toBe(2);
    expect(body.logs.map((l: { id: string }) => l.id).sort()).toEqual(['a1', 'a2']);
    expect(body.aggregations).toEqual({ by_level: { ERROR: 2 }, by_service: { 'payment-service': 2 } });
    expect(typeof body.query_time_ms).toBe('number');
    expect(body.logs[0]).toMatchObject({ service: 'payment-service', source: { hostname: 'host-1' } });
  });

  it('an empty body searches everything; the time window narrows it', async () => {
    expect((await search({})).json().total).toBe(125);
    const recent = await search({ start_time: '2026-03-01T11:00:00Z', limit: 10 });
    expect(recent.json().total).toBe(5);
    const offsetTime = await search({
      start_time: '2026-03-01T12:00:00+01:00',
      end_time: '2026-03-01T11:59:00.000Z',
    });
    expect(offsetTime.json().total).toBe(5);
  });

  it('query syntax is plain text: quotes, OR, parentheses and dashes are not operators', async () => {
    for (const query of [
      'Token expired" OR 1=1 -- (',
      'NEAR(a b)',
      '*',
      '"unterminated',
      'level:ERROR AND',
      '\\',
      '{}[]^~',
    ]) {
      const res = await search({ query });
      expect(res.statusCode, query).toBe(200);
    }
    expect((await search({ query: 'expired" OR 1=1' })).json().logs.map((l: { id: string }) => l.id)).toEqual(
      ['a5'],
    );
  });

  it('paging: offset, the 10,000 window, and cursors that reach every hit once', async () => {
    const page = await search({ services: ['order-service'], limit: 50, offset: 100 });
    expect(page.json().logs).toHaveLength(20);
    const tooFar = await search({ limit: 100, offset: 9950 });
    expect(tooFar.statusCode).toBe(400);
    expect(errorCode(tooFar)).toBe('LF_ERR_VALIDATION');
    const seen = new Set<string>();
    let cursor: string | undefined;
    for (let i = 0; i < 10; i++) {
      const res = await search({ services: ['order-service'], limit: 50, ...(cursor ? { cursor } : {}) });
      expect(res.statusCode).toBe(200);
      for (const l of res.json().logs) seen.add(l.id);
      cursor = res.json().next_cursor;
      if (!cursor) break;
    }
    expect(seen.size).toBe(120);
  });

  it('bad bodies are 400 with the error shape', async () => {
    const bad: unknown[] = [
      { limit: 0 },
      { limit: 1001 },
      { limit: 'many' },
      { offset: -1 },
      { offset: 10_001 },
      { levels: ['LOUD'] },
      { services: [123] },
      { start_time: 'yesterday' },
      { start_time: '2026-13-45 99:99:99' },
      { start_time: '2026-03-01T12:00:00Z', end_time: '2026-03-01T11:00:00Z' },
      { query: 'x'.repeat(1001) },
      { unknown_field: true },
      [1, 2, 3],
      { cursor: '' },
    ];
    for (const payload of bad) {
      const res = await search(payload);
      expect(res.statusCode, JSON.stringify(payload).slice(0, 80)).toBe(400);
      expect(errorCode(res)).toMatch(/^LF_ERR_(VALIDATION|BAD_REQUEST)$/);
    }
    const garbageCursor = await search({ cursor: 'not-a-real-cursor' });
    expect(garbageCursor.statusCode).toBeLessThan(500);
  });

  it('repeated identical searches are answered from the cache', async () => {
    const body = { query: 'database', levels: ['WARN', 'ERROR'] };
    expect((await search(body)).headers['x-cache']).toBe('miss');
    // Same query with arrays in another order and different spacing: same key.
    const again = await search({ query: ' database ', levels: ['ERROR', 'WARN'] });
    expect(again.headers['x-cache']).toBe('hit');
    expect(again.json().total).toBe(3);
  });

  it('recent: newest first, by level, bounded limit', async () => {
    const res = await h.app.inject({ url: '/api/v1/logs/recent?limit=2&level=ERROR', headers: auth });
    expect(res.statusCode).toBe(200);
    expect(res.json().logs.map((l: { id: string }) => l.id)).toEqual(['a5', 'a2']);
    expect(res.json().count).toBe(2);
    expect((await h.app.inject({ url: '/api/v1/logs/recent', headers: auth })).json().count).toBe(50);
    for (const q of ['limit=0', 'limit=1001', 'limit=abc', 'level=LOUD', 'foo=1']) {
      const r = await h.app.inject({ url: `/api/v1/logs/recent?${q}`, headers: auth });
      expect(r.statusCode, q).toBe(400);
      expect(errorCode(r)).toBe('LF_ERR_VALIDATION');
    }
  });

  it('get by id, and 404 LF_ERR_NOT_FOUND when absent', async () => {
    const res = await h.app.inject({ url: '/api/v1/logs/a4', headers: auth });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id: 'a4', extra_fields: { user: 'u1' }, level: 'INFO' });
    const missing = await h.app.inject({ url: '/api/v1/logs/nope', headers: auth });
    expect(missing.statusCode).toBe(404);
    expect(errorCode(missing)).toBe('LF_ERR_NOT_FOUND');
  });

  it('histogram: buckets by level over the last hour by default, filters, bad intervals', async () => {
    const res = await h.app.inject({
      url: '/api/v1/logs/histogram?interval=10m&levels=ERROR,WARN',
      headers: auth,
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.interval_ms).toBe(600_000);
    expect(body.total).toBe(4);
    const byLevel: Record<string, number> = {};
    for (const b of body.buckets)
      for (const [l, n] of Object.entries(b.by_level)) byLevel[l] = (byLevel[l] ?? 0) + (n as number);
    expect(byLevel).toEqual({ ERROR: 3, WARN: 1 });
    const services = await h.app.inject({
      url: '/api/v1/logs/histogram?services=order-service&start_time=2026-03-01T08:00:00Z&end_time=2026-03-01T12:00:00Z&interval=1h',
      headers: auth,
    });
    expect(services.json().total).toBe(120);
    for (const q of [
      'interval=0m',
      'interval=1s&start_time=2026-01-01T00:00:00Z',
      'interval=5x',
      'levels=LOUD',
      'start_time=nope',
    ]) {
      const r = await h.app.inject({ url: `/api/v1/logs/histogram?${q}`, headers: auth });
      expect(r.statusCode, q).toBe(400);
      expect(errorCode(r)).toBe('LF_ERR_VALIDATION');
    }
  });

  it('tail: Server-Sent Events with filters, heartbeats, cleanup on disconnect', async () => {
    const t = await startHarness({ heartbeatMs: 20 });
    try {
      await t.app.listen({ port: 0, host: '127.0.0.1' });
      const { port } = t.app.server.address() as AddressInfo;
      let text = '';
      let status = 0;
      let contentType = '';
      const req = httpRequest({
        host: '127.0.0.1',
        port,
        path: `/api/v1/logs/tail?levels=ERROR&services=auth-service&access_token=${t.viewerToken}`,
      });
      req.on('response', (res) => {
        status = res.statusCode ?? 0;
        contentType = String(res.headers['content-type']);
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          text += chunk;
        });
      });
      req.on('error', () => {});
      req.end();
      await waitFor(() => t.tail.size === 1, { what: 'a tail subscriber' });
      t.tail.publish(makeLog({ id: 'skip-level', level: 'INFO', service: 'auth-service' }));
      t.tail.publish(makeLog({ id: 'skip-service', level: 'ERROR', service: 'user-service' }));
      t.tail.publish(makeLog({ id: 'tail-1', level: 'ERROR', service: 'auth-service', message: 'boom' }));
      await waitFor(() => text.includes('tail-1') && text.includes(': heartbeat'), {
        what: 'event and heartbeat',
      });
      expect(status).toBe(200);
      expect(contentType).toContain('text/event-stream');
      expect(text).not.toContain('skip-');
      const event = text.split('\n\n').find((e) => e.includes('event: log'))!;
      expect(JSON.parse(event.split('data: ')[1])).toMatchObject({ id: 'tail-1', message: 'boom' });
      req.destroy();
      await waitFor(() => t.tail.size === 0, { what: 'unsubscribe on disconnect' });

      const anon = await t.app.inject({ url: '/api/v1/logs/tail' });
      expect(errorCode(anon)).toBe('LF_ERR_AUTH_REQUIRED');
      const bad = await t.app.inject({
        url: '/api/v1/logs/tail?levels=LOUD',
        headers: bearer(t.viewerToken),
      });
      expect(errorCode(bad)).toBe('LF_ERR_VALIDATION');
    } finally {
      await t.close();
    }
  });

  it('tail without a source is 503 LF_ERR_SERVICE_UNAVAILABLE', async () => {
    const { buildServer } = await import('../../../api/server.ts');
    const app = buildServer({
      config: (await import('../../../common/config.ts')).loadConfig({}, { jwtSecret: 'x' }),
      logStore: h.logStore,
      metricsView: h.metricsView,
      db: h.db,
    });
    const res = await app.inject({ url: '/api/v1/logs/tail', headers: { 'x-api-key': h.apiKey } });
    expect(res.statusCode).toBe(503);
    expect(errorCode(res)).toBe('LF_ERR_SERVICE_UNAVAILABLE');
    await app.close();
  });
});
