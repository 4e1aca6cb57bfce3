// First: kafkajs loads with LogFlow's replacements of its internals (see the module).
import '../../topology/transport/kafkajs-linear-grouping.ts';
import { Socket } from 'node:net';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';

/**
 * Health probes speak each service's own protocol: an open port only says something listens, not
 * that a broker has a controller or a registry has its storage. Every probe is bounded in time and
 * answers false instead of throwing.
 */

export async function portOpen(host: string, port: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolveOpen) => {
    const socket = new Socket();
    const done = (open: boolean) => {
      socket.destroy();
      resolveOpen(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('error', () => done(false));
    socket.connect(port, host, () => done(true));
  });
}

export async function httpOk(url: string, timeoutMs = 2_000): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    await res.arrayBuffer();
    return res.ok;
  } catch {
    return false;
  }
}

/** A broker is healthy when it answers Metadata with itself and a controller. */
export async function kafkaHealthy(brokers: string[], timeoutMs = 3_000): Promise<boolean> {
  const [host, port] = brokers[0].split(':');
  if (!(await portOpen(host, Number(port)))) return false;
  const admin = new Kafka({
    clientId: 'logflow-services-probe',
    brokers,
    connectionTimeout: timeoutMs,
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  }).admin();
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0 && cluster.controller !== null && cluster.controller >= 0;
  } catch {
    return false;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

/** Elasticsearch answers cluster health green or yellow (the integ-test zip has no `GET /`). */
export async function elasticsearchHealthy(url: string, timeoutMs = 3_000): Promise<boolean> {
  try {
    const res = await fetch(`${url}/_cluster/health`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return false;
    const body = (await res.json()) as { status?: string };
    return body.status === 'green' || body.status === 'yellow';
  } catch {
    return false;
  }
}

export async function postgresHealthy(connectionString: string, timeoutMs = 3_000): Promise<boolean> {
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: timeoutMs });
  // An unreachable server emits 'error' after connect() rejects; swallow it, the probe answers false.
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

export async function redisHealthy(url: string, timeoutMs = 2_000): Promise<boolean> {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}
