import { resolve } from 'node:path';
import { LogFlowError } from './errors.ts';

/**
 * Runtime configuration, read once from the environment. Config is data: every component is
 * built from this object, never from `process.env` directly, so tests can pass their own.
 *
 * The distributed-mode defaults are exactly the URLs `logflow services up` serves, so
 * `LOGFLOW_MODE=kafka npm start` works right after `npm run services -- up` with nothing set.
 */
export type Mode = 'embedded' | 'kafka';

export interface LogFlowConfig {
  mode: Mode;
  host: string;
  port: number;
  dataDir: string;
  kafkaBrokers: string[];
  schemaRegistryUrl: string;
  elasticsearchUrl: string;
  redisUrl: string;
  databaseUrl: string;
  /** First admin's password; when absent one is generated and printed once at first start. */
  adminPassword: string | undefined;
  /** Secret that signs API tokens; generated and kept in the data dir when absent. */
  jwtSecret: string | undefined;
  /** Secret that signs outgoing webhooks (HMAC-SHA256). */
  webhookSecret: string | undefined;
  /**
   * IPs/CIDRs webhooks may reach although they are private/loopback/link-local
   * (`LOGFLOW_WEBHOOK_ALLOW`, comma-separated, e.g. `127.0.0.1,10.0.0.0/8`). Empty by default.
   */
  webhookAllowList: string[];
  /** Topic names of the log pipeline (logs-raw → logs-parsed → logs-metrics → alerts). */
  topics: PipelineTopics;
  /** Partitions created for the pipeline's topics. */
  partitions: number;
  /** Whether `start` also runs the log generator (the embedded demo flow). */
  generate: boolean;
  /** Logs per second of the built-in generator. */
  generateRate: number;
  /** Delivery guarantee of the pipeline's topologies (`LOGFLOW_GUARANTEE`). */
  guarantee: 'at_least_once' | 'exactly_once';
  /**
   * Stable identity of this process (`LOGFLOW_INSTANCE_ID`), e.g. a StatefulSet pod name. Under
   * exactly-once it names the transactional producer, so a restarted instance fences its previous
   * incarnation at once instead of waiting for that one's open transaction to time out. Default:
   * `<host>-<slot>`, a slot claimed in the data dir (see app/instance-id.ts).
   */
  instanceId: string | undefined;
  /** Files or globs the shipper follows (`LOGFLOW_SHIP_PATHS`, comma-separated). Default `<dataDir>/logs/*.log`. */
  shipPaths: string[];
  /** Days of logs kept in the search store. */
  retentionDays: number;
}

export interface PipelineTopics {
  raw: string;
  parsed: string;
  metrics: string;
  alerts: string;
  deadLetter: string;
}

export const DEFAULTS = {
  port: 8000,
  kafkaBrokers: '127.0.0.1:9092',
  schemaRegistryUrl: 'http://127.0.0.1:8081/apis/ccompat/v7',
  elasticsearchUrl: 'http://127.0.0.1:9200',
  redisUrl: 'redis://127.0.0.1:6379',
  databaseUrl: 'postgres://postgres@127.0.0.1:5432/logflow',
} as const;

export const DEFAULT_TOPICS: PipelineTopics = {
  raw: 'logs-raw',
  parsed: 'logs-parsed',
  metrics: 'logs-metrics',
  alerts: 'alerts',
  deadLetter: 'logs-dlq',
};

type Env = Record<string, string | undefined>;

function intFrom(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) {
    throw new LogFlowError('LF_ERR_CONFIG_INVALID', `${name} must be a non-negative integer, got "${raw}"`);
  }
  return n;
}

function guaranteeFrom(raw: string | undefined): LogFlowConfig['guarantee'] {
  const value = raw || 'at_least_once';
  if (value !== 'at_least_once' && value !== 'exactly_once') {
    throw new LogFlowError(
      'LF_ERR_CONFIG_INVALID',
      `LOGFLOW_GUARANTEE must be "at_least_once" or "exactly_once", got "${value}"`,
    );
  }
  return value;
}

export function loadConfig(env: Env = process.env, overrides: Partial<LogFlowConfig> = {}): LogFlowConfig {
  const mode = (env.LOGFLOW_MODE ?? 'embedded') as Mode;
  if (mode !== 'embedded' && mode !== 'kafka') {
    throw new LogFlowError(
      'LF_ERR_CONFIG_INVALID',
      `LOGFLOW_MODE must be "embedded" or "kafka", got "${mode}"`,
    );
  }
  const config: LogFlowConfig = {
    mode,
    host: env.HOST ?? '0.0.0.0',
    port: intFrom(env, 'PORT', DEFAULTS.port),
    dataDir: resolve(env.LOGFLOW_DATA_DIR ?? '.logflow/data'),
    kafkaBrokers: (env.KAFKA_BROKERS ?? DEFAULTS.kafkaBrokers)
      .split(',')
      .map((b) => b.trim())
      .filter(Boolean),
    schemaRegistryUrl: env.SCHEMA_REGISTRY_URL ?? DEFAULTS.schemaRegistryUrl,
    elasticsearchUrl: env.ELASTICSEARCH_URL ?? DEFAULTS.elasticsearchUrl,
    redisUrl: env.REDIS_URL ?? DEFAULTS.redisUrl,
    databaseUrl: env.DATABASE_URL ?? DEFAULTS.databaseUrl,
    adminPassword: env.LOGFLOW_ADMIN_PASSWORD || undefined,
    jwtSecret: env.LOGFLOW_JWT_SECRET || undefined,
    webhookSecret: env.LOGFLOW_WEBHOOK_SECRET || undefined,
    webhookAllowList: (env.LOGFLOW_WEBHOOK_ALLOW ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    topics: { ...DEFAULT_TOPICS },
    partitions: intFrom(env, 'LOGFLOW_PARTITIONS', 6),
    generate: (env.LOGFLOW_GENERATE ?? 'true') !== 'false',
    generateRate: intFrom(env, 'LOGFLOW_GENERATE_RATE', 50),
    guarantee: guaranteeFrom(env.LOGFLOW_GUARANTEE),
    instanceId: env.LOGFLOW_INSTANCE_ID || undefined,
    shipPaths: [],
    retentionDays: intFrom(env, 'LOGFLOW_RETENTION_DAYS', 7),
  };
  const shipPaths = (env.LOGFLOW_SHIP_PATHS ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  config.shipPaths = shipPaths.length > 0 ? shipPaths : [resolve(config.dataDir, 'logs', '*.log')];
  return { ...config, ...overrides };
}
