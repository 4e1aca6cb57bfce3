/**
 * A real API over the embedded stores (SQLite search store, in-memory metric windows, SQLite
 * database in memory): what the route tests and the fuzz drive with inject().
 */
import type { FastifyInstance } from 'fastify';
import { Registry } from 'prom-client';
import { generateApiKey } from '../../../api/auth/api-key.ts';
import { hashPassword } from '../../../api/auth/password.ts';
import { buildServer, type ServerOptions } from '../../../api/server.ts';
import { TailHub } from '../../../api/tail.ts';
import { loadConfig } from '../../../common/config.ts';
import { openSqliteDatabase, type SqliteDatabase } from '../../../storage/db/sqlite-database.ts';
import { SqliteLogStore } from '../../../storage/logs/sqlite-store.ts';
import type { ParsedLog } from '../../../storage/logs/types.ts';
import { MemoryMetricsView } from '../../../storage/metrics/memory-view.ts';

// Cheap scrypt for test users only; the cost travels with the hash, so login verifies it as is.
const FAST = { N: 1024, r: 8, p: 1 };
export const ADMIN_PASSWORD = 'admin-password-1';
export const VIEWER_PASSWORD = 'viewer-password-1';
/** 2026-03-01T12:00:00Z: the harness clock, so metric windows and histograms are deterministic. */
export const NOW = Date.parse('2026-03-01T12:00:00.000Z');

export interface Harness {
  app: FastifyInstance;
  db: SqliteDatabase;
  logStore: SqliteLogStore;
  metricsView: MemoryMetricsView;
  tail: TailHub;
  registry: Registry;
  adminToken: string;
  viewerToken: string;
  apiKey: string;
  viewerKey: string;
  close(): Promise<void>;
}

let seq = 0;
export function makeLog(overrides: Partial<ParsedLog> = {}): ParsedLog {
  seq++;
  return {
    id: `log-${seq}`,
    timestamp: NOW - 60_000,
    level: 'INFO',
    service: 'payment-service',
    message: `Payment completed for order order_${seq}`,
    source: { hostname: 'host-1', file: 'app.log' },
    extra_fields: {},
    ingested_at: NOW - 59_000,
    ...overrides,
  };
}

export async function login(app: FastifyInstance, username: string, password: string): Promise<string> {
  const res = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { username, password },
  });
  if (res.statusCode !== 200) throw new Error(`login failed: ${res.statusCode} ${res.body}`);
  return res.json().token;
}

export async function startHarness(options: ServerOptions = {}): Promise<Harness> {
  const db = openSqliteDatabase(':memory:');
  const logStore = SqliteLogStore.open({ path: ':memory:' });
  const metricsView = new MemoryMetricsView({ now: () => NOW });
  const tail = new TailHub();
  const registry = new Registry();
  await db.users.create({
    username: 'admin',
    email: null,
    role: 'admin',
    password_hash: await hashPassword(ADMIN_PASSWORD, FAST),
  });
  await db.users.create({
    username: 'viewer',
    email: null,
    role: 'viewer',
    password_hash: await hashPassword(VIEWER_PASSWORD, FAST),
  });
  const key = generateApiKey();
  await db.apiKeys.create({
    name: 'ci',
    prefix: key.prefix,
    key_hash: key.hash,
    role: 'admin',
    created_by: 'admin',
    expires_at: null,
  });
  const vkey = generateApiKey();
  await db.apiKeys.create({
    name: 'dash',
    prefix: vkey.prefix,
    key_hash: vkey.hash,
    role: 'viewer',
    created_by: 'admin',
    expires_at: null,
  });
  const app = buildServer({
    config: loadConfig({}, { jwtSecret: 'test-secret-that-is-long-enough' }),
    logStore,
    metricsView,
    db,
    tail,
    registry,
    options: { now: () => NOW, loginRateLimit: { max: 1000, timeWindow: 60_000 }, ...options },
  });
  await app.ready();
  return {
    app,
    db,
    logStore,
    metricsView,
    tail,
    registry,
    adminToken: await login(app, 'admin', ADMIN_PASSWORD),
    viewerToken: await login(app, 'viewer', VIEWER_PASSWORD),
    apiKey: key.key,
    viewerKey: vkey.key,
    async close() {
      await app.close();
      await logStore.close();
      await metricsView.close();
      await db.close();
    },
  };
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Asserts the error shape and returns the code. */
export function errorCode(res: { statusCode: number; json(): unknown }): string {
  const body = res.json() as { code?: unknown; message?: unknown; details?: unknown };
  if (typeof body.code !== 'string' || typeof body.message !== 'string' || !('details' in body)) {
    throw new Error(`not the error shape: ${JSON.stringify(body)}`);
  }
  if (JSON.stringify(body).includes('    at ')) throw new Error('stack trace leaked');
  return body.code;
}
