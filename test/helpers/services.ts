/**
 * Connections to the real services for integration tests. Every factory registers its own
 * cleanup (client closed, topic / index / subject / key deleted), so a test never leaks:
 * called inside a test, the cleanup runs when that test finishes; called in `beforeAll` or at
 * describe level, it runs after the file (afterAll). Names are random, so files never collide.
 *
 * URLs come from common/config.ts (the environment or the `logflow services up` defaults).
 */
// First: kafkajs must load with LogFlow's replacements of its internals, so raw kafkajs clients in
// tests exercise the same encoding and decoding as the transport (see the module).
import '../../topology/transport/kafkajs-linear-grouping.ts';
import { Client as ElasticsearchClient } from '@elastic/elasticsearch';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { Redis } from 'ioredis';
import {
  type Admin,
  type Consumer,
  type ConsumerConfig,
  type ITopicConfig,
  Kafka,
  logLevel,
  type Producer,
  type ProducerConfig,
} from 'kafkajs';
import pg from 'pg';
import { afterAll, onTestFinished } from 'vitest';
import { type LogFlowConfig, loadConfig } from '../../common/config.ts';
import { randomName } from './names.ts';

export function serviceConfig(): LogFlowConfig {
  return loadConfig();
}

/**
 * Cleanups registered outside a test (in beforeAll or at describe level). This module is imported
 * while vitest collects a test file (each file gets its own copy), so this top-level afterAll
 * belongs to the file's root suite and runs after all of its tests, newest cleanup first.
 */
const fileCleanups: (() => unknown | Promise<unknown>)[] = [];
afterAll(async () => {
  const errors: unknown[] = [];
  for (const cleanup of fileCleanups.splice(0).reverse()) {
    try {
      await cleanup();
    } catch (err) {
      errors.push(err);
    }
  }
  if (errors.length > 0) throw new AggregateError(errors, 'test cleanup failed');
});

/**
 * Runs `cleanup` when the current test finishes, or after all tests of the file when there is
 * no current test (vitest's onTestFinished throws outside a test).
 */
export function registerCleanup(cleanup: () => unknown | Promise<unknown>): void {
  try {
    onTestFinished(async () => {
      await cleanup();
    });
  } catch {
    fileCleanups.push(cleanup);
  }
}

// ── Kafka ──────────────────────────────────────────────────────────────────────────────────────

/** A kafkajs client with a random client id (so broker-side logs tell tests apart). */
export function kafka(clientPrefix = 'lf-test'): Kafka {
  return new Kafka({
    clientId: randomName(clientPrefix),
    brokers: serviceConfig().kafkaBrokers,
    logLevel: logLevel.WARN,
  });
}

export async function kafkaAdmin(): Promise<Admin> {
  const admin = kafka('lf-test-admin').admin();
  await admin.connect();
  registerCleanup(() => admin.disconnect());
  return admin;
}

export async function kafkaProducer(config: ProducerConfig = {}): Promise<Producer> {
  const producer = kafka('lf-test-producer').producer(config);
  await producer.connect();
  registerCleanup(() => producer.disconnect());
  return producer;
}

/** A connected consumer in a fresh random group unless `groupId` is given. */
export async function kafkaConsumer(config: Partial<ConsumerConfig> = {}): Promise<Consumer> {
  const consumer = kafka('lf-test-consumer').consumer({ groupId: randomName('lf-test-group'), ...config });
  await consumer.connect();
  registerCleanup(() => consumer.disconnect());
  return consumer;
}

/** A fresh topic (auto-creation is off on the broker), deleted at cleanup. */
export async function createTopic(
  options: { prefix?: string; partitions?: number; configEntries?: ITopicConfig['configEntries'] } = {},
): Promise<string> {
  const topic = randomName(options.prefix ?? 'lf-test');
  const admin = kafka('lf-test-topics').admin();
  await admin.connect();
  try {
    await admin.createTopics({
      topics: [{ topic, numPartitions: options.partitions ?? 1, configEntries: options.configEntries }],
      waitForLeaders: true,
    });
  } finally {
    await admin.disconnect();
  }
  registerCleanup(async () => {
    const cleanup = kafka('lf-test-cleanup').admin();
    await cleanup.connect();
    await cleanup.deleteTopics({ topics: [topic] }).finally(() => cleanup.disconnect());
  });
  return topic;
}

// ── Schema Registry ────────────────────────────────────────────────────────────────────────────

export function registryUrl(): string {
  return serviceConfig().schemaRegistryUrl;
}

export function schemaRegistry(): SchemaRegistry {
  return new SchemaRegistry({ host: registryUrl() });
}

/**
 * A random subject name that is deleted (soft, then permanently, as the Confluent API requires)
 * at cleanup, whether or not the test registered anything under it.
 */
export function registrySubject(prefix = 'lf-test'): string {
  const subject = `${randomName(prefix)}-value`;
  registerCleanup(async () => {
    const base = `${registryUrl()}/subjects/${encodeURIComponent(subject)}`;
    await fetch(base, { method: 'DELETE' });
    await fetch(`${base}?permanent=true`, { method: 'DELETE' });
  });
  return subject;
}

// ── Elasticsearch ──────────────────────────────────────────────────────────────────────────────

export function elasticsearch(): ElasticsearchClient {
  const client = new ElasticsearchClient({ node: serviceConfig().elasticsearchUrl });
  registerCleanup(() => client.close());
  return client;
}

/** A random index name (lower case, as ES requires); the index, if anything creates it, is deleted at cleanup. */
export function indexName(prefix = 'lf-test'): string {
  const index = randomName(prefix).toLowerCase();
  registerCleanup(async () => {
    const client = new ElasticsearchClient({ node: serviceConfig().elasticsearchUrl });
    await client.indices.delete({ index, ignore_unavailable: true }).finally(() => client.close());
  });
  return index;
}

/** Creates a random index with the given settings and mappings; deleted at cleanup. */
export async function createIndex(
  body: { settings?: Record<string, unknown>; mappings?: Record<string, unknown> } = {},
  prefix = 'lf-test',
): Promise<string> {
  const index = indexName(prefix);
  const client = new ElasticsearchClient({ node: serviceConfig().elasticsearchUrl });
  try {
    await client.indices.create({ index, ...body });
  } finally {
    await client.close();
  }
  return index;
}

// ── PostgreSQL ─────────────────────────────────────────────────────────────────────────────────

/** A small pool on DATABASE_URL (the `logflow` database by default). */
export function pgPool(connectionString = serviceConfig().databaseUrl): pg.Pool {
  const pool = new pg.Pool({ connectionString, max: 4 });
  registerCleanup(() => pool.end());
  return pool;
}

/** A random table name (safe as an unquoted identifier); the table is dropped at cleanup. */
export function pgTable(prefix = 'lf_test'): string {
  const table = randomName(prefix).replace(/-/g, '_');
  registerCleanup(async () => {
    const client = new pg.Client({ connectionString: serviceConfig().databaseUrl });
    await client.connect();
    await client.query(`DROP TABLE IF EXISTS ${table}`).finally(() => client.end());
  });
  return table;
}

// ── Redis ──────────────────────────────────────────────────────────────────────────────────────

export function redis(): Redis {
  const client = new Redis(serviceConfig().redisUrl, { maxRetriesPerRequest: 2 });
  registerCleanup(() => client.quit());
  return client;
}

/** A random key prefix; every key under it is deleted at cleanup. */
export function redisPrefix(prefix = 'lf-test'): string {
  const keyPrefix = `${randomName(prefix)}:`;
  registerCleanup(async () => {
    const client = new Redis(serviceConfig().redisUrl, { maxRetriesPerRequest: 2 });
    try {
      let cursor = '0';
      do {
        const [next, keys] = await client.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 500);
        if (keys.length > 0) await client.del(...keys);
        cursor = next;
      } while (cursor !== '0');
    } finally {
      await client.quit();
    }
  });
  return keyPrefix;
}
