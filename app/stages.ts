/**
 * Every part of the pipeline as a named stage that can run alone (`logflow run <stage>`, scaled by
 * starting more processes: each stage is a consumer group) or all together (`logflow start`).
 * Config is data; each stage's runtime is built here from it and the shared AppContext.
 *
 *   generate → (files) → ship → logs-raw → parse → logs-parsed ─┬─ index → search store
 *                                                               └─ aggregate → logs-metrics ─┬─ materialise → metrics view
 *                                                                                             └─ alert → alerts → webhook
 */

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TailHub } from '../api/tail.ts';
import { createLogger } from '../common/logger.ts';
import { createElasticsearchSink } from '../connectors/elasticsearch/sink.ts';
import { createShipper } from '../connectors/file/file-source.ts';
import { createRedisMaterialiser } from '../connectors/redis/materialiser.ts';
import { createSearchStoreSink } from '../connectors/search-store/sink.ts';
import { SqlDeliveryLedger } from '../connectors/webhook/delivery-ledger.ts';
import { createWebhookConnector } from '../connectors/webhook/webhook-connector.ts';
import {
  aggregateStreamsConfig,
  aggregateTopicSpecs,
  buildAggregateTopology,
} from '../pipeline/aggregate/aggregate-topology.ts';
import { alertStreamsConfig, alertTopicSpecs, buildAlertTopology } from '../pipeline/alert/alert-topology.ts';
import { triggeredAlertsSink } from '../pipeline/alert/history-recorder.ts';
import { startGenerator } from '../pipeline/generator/index.ts';
import { buildParseTopology, parseStreamsConfig, parseTopicSpecs } from '../pipeline/parse/parse-topology.ts';
import { PgClient } from '../storage/db/pg-client.ts';
import type { PostgresDatabase } from '../storage/db/postgres-database.ts';
import type { Database } from '../storage/db/types.ts';
import type { ParsedLog } from '../storage/logs/types.ts';
import { LogFlowStreams, type Topology } from '../topology/index.ts';
import type { TopicSpec } from '../topology/transport/transport.ts';
import type { AppContext } from './context.ts';
import { claimInstanceId } from './instance-id.ts';
import { resolveWebhookSecret } from './webhook-secret.ts';

const log = createLogger('app');

/** A running stage. `stop()` drains, commits and releases; it is idempotent. */
export interface RunningStage {
  stop(): Promise<void>;
}

export interface Stage {
  name: StageName;
  description: string;
  start(ctx: AppContext, shared: SharedRuntime): Promise<RunningStage>;
}

/** What stages of one process share: the live tail fed by whichever stage sees parsed logs. */
export interface SharedRuntime {
  tail: TailHub;
}

export const STAGE_NAMES = [
  'generate',
  'ship',
  'parse',
  'index',
  'aggregate',
  'materialise',
  'alert',
  'webhook',
] as const;
export type StageName = (typeof STAGE_NAMES)[number];

/** Every topic of the pipeline, created before any stage starts. */
export function pipelineTopics(ctx: AppContext): TopicSpec[] {
  const specs = [
    ...parseTopicSpecs(ctx.config),
    ...aggregateTopicSpecs(ctx.config),
    ...alertTopicSpecs(ctx.config),
  ];
  const byName = new Map<string, TopicSpec>();
  for (const spec of specs) byName.set(spec.name, { ...byName.get(spec.name), ...spec });
  return [...byName.values()];
}

async function runTopology(
  ctx: AppContext,
  topology: Topology,
  applicationId: string,
  extra = {},
): Promise<RunningStage> {
  const streams = new LogFlowStreams(topology, {
    applicationId,
    transport: ctx.transport,
    metricsRegistry: ctx.registry,
    defaultPartitions: ctx.config.partitions,
    processingGuarantee: ctx.config.guarantee,
    instanceId: ctx.config.instanceId ?? claimInstanceId(ctx.config.dataDir, applicationId),
    // A failed topology must not leave a half-alive process: close everything and exit non-zero
    // so the supervisor (systemd, Kubernetes) restarts it; committed offsets make that safe.
    onError: (err) => {
      log.fatal({ err, applicationId }, 'topology failed; shutting the process down');
      process.exitCode = 1;
      process.kill(process.pid, 'SIGTERM');
    },
    ...extra,
  });
  await streams.start();
  return { stop: () => streams.close() };
}

const stages: Stage[] = [
  {
    name: 'generate',
    description: 'write generated logs (seed formats and level mix) into <dataDir>/logs/app.log',
    async start(ctx) {
      const dir = join(ctx.config.dataDir, 'logs');
      mkdirSync(dir, { recursive: true });
      const generator = startGenerator({
        rate: ctx.config.generateRate,
        burstIntervalMs: 60_000,
        output: join(dir, 'app.log'),
        // Rotate by rename like logrotate, so a long-running `npm start` does not fill the disk
        // (and the shipper's rotation handling runs every day in the default setup).
        rotateBytes: 64 * 1024 * 1024,
        keepFiles: 2,
      });
      return { stop: async () => void (await generator.stop()) };
    },
  },
  {
    name: 'ship',
    description: 'tail the configured files into logs-raw (at least once, across rotations and restarts)',
    async start(ctx) {
      const producer = ctx.transport.producer();
      await producer.connect();
      const shipper = createShipper({
        paths: ctx.config.shipPaths,
        producer,
        serde: ctx.serdes.raw,
        topic: ctx.config.topics.raw,
        checkpointPath: join(ctx.config.dataDir, 'shipper-checkpoint.json'),
        metricsRegistry: ctx.registry,
      });
      await shipper.start();
      return {
        async stop() {
          await shipper.stop();
          await producer.disconnect();
        },
      };
    },
  },
  {
    name: 'parse',
    description:
      'logs-raw → logs-parsed (text and JSON formats; undecodable records to the dead-letter topic)',
    start: (ctx) =>
      runTopology(
        ctx,
        buildParseTopology(ctx.config, ctx.serdes),
        'logflow-parse',
        parseStreamsConfig(ctx.config),
      ),
  },
  {
    name: 'index',
    description: 'logs-parsed → the search store (Elasticsearch bulk sink, or SQLite in the embedded mode)',
    async start(ctx, shared) {
      const { config } = ctx;
      // Whichever sink indexes also feeds the live tail, so a process running this stage needs no
      // second consumer of logs-parsed for it (and the tail shows what is searchable).
      const publishToTail = (logs: ParsedLog[]) => {
        for (const log of logs) shared.tail.publish(log);
      };
      if (config.mode === 'kafka') {
        const sink = createElasticsearchSink({
          transport: ctx.transport,
          serde: ctx.serdes.parsed,
          node: config.elasticsearchUrl,
          topic: config.topics.parsed,
          deadLetterTopic: config.topics.deadLetter,
          retentionDays: config.retentionDays,
          registry: ctx.registry,
          onWritten: publishToTail,
        });
        await sink.start();
        return { stop: () => sink.stop() };
      }
      const sink = createSearchStoreSink({
        transport: ctx.transport,
        store: ctx.logStore,
        serde: ctx.serdes.parsed,
        topic: config.topics.parsed,
        registry: ctx.registry,
        onIndexed: publishToTail,
      });
      await sink.start();
      const dayMs = 86_400_000;
      const retention = setInterval(
        () => void ctx.logStore.deleteOlderThan(Date.now() - config.retentionDays * dayMs).catch(() => {}),
        3_600_000,
      );
      retention.unref();
      return {
        async stop() {
          clearInterval(retention);
          await sink.stop();
        },
      };
    },
  },
  {
    name: 'aggregate',
    description: 'logs-parsed → logs-metrics (per-service 1m and 1h event-time windows)',
    start: (ctx) =>
      runTopology(
        ctx,
        buildAggregateTopology(ctx.config, ctx.serdes),
        'logflow-aggregate',
        // Exactly-once always: counts must equal a recount of logs-parsed, also after a crash.
        aggregateStreamsConfig(ctx.config),
      ),
  },
  {
    name: 'materialise',
    description:
      'logs-metrics → the metrics view the API reads (Redis, or memory+SQLite in the embedded mode)',
    async start(ctx) {
      const materialiser = createRedisMaterialiser(ctx.config, {
        transport: ctx.transport,
        view: ctx.metricsView,
        serde: ctx.serdes.metrics,
        registry: ctx.registry,
      });
      await materialiser.start();
      return { stop: () => materialiser.stop() };
    },
  },
  {
    name: 'alert',
    description: 'logs-metrics → alerts (threshold, error-rate and absence rules from the database)',
    async start(ctx) {
      const db = await ctx.db();
      const alertStage = buildAlertTopology(
        ctx.config,
        ctx.serdes,
        db.alertRules,
        triggeredAlertsSink(db.triggeredAlerts),
        { silences: db.silences },
      );
      await alertStage.start(ctx.transport);
      // Exactly-once always: an alert fires once and resolves once, also across a crash.
      const running = await runTopology(
        ctx,
        alertStage.topology,
        'logflow-alert',
        alertStreamsConfig(ctx.config),
      );
      return {
        async stop() {
          await running.stop();
          await alertStage.stop();
        },
      };
    },
  },
  {
    name: 'webhook',
    description: 'alerts → signed webhooks (retries per receiver, never twice to the same one)',
    async start(ctx) {
      const db = await ctx.db();
      const connector = createWebhookConnector(ctx.config, {
        transport: ctx.transport,
        serde: ctx.serdes.alerts,
        secret: await resolveWebhookSecret(db, ctx.config),
        ledger: sharedLedger(db),
        registry: ctx.registry,
      });
      await connector.start();
      return { stop: () => connector.stop() };
    },
  },
];

/**
 * Webhook processes on several hosts share one consumer group, so in the distributed mode the
 * delivery ledger lives in the shared PostgreSQL database: after a rebalance the new owner of a
 * partition sees what the previous one delivered. The embedded mode is a single process, so the
 * connector's default — its own SQLite file in the data dir — is already shared by everyone who
 * delivers (and keeps the deliveries recorded before this change).
 */
function sharedLedger(db: Database): SqlDeliveryLedger | undefined {
  return db.kind === 'postgres'
    ? new SqlDeliveryLedger(new PgClient((db as PostgresDatabase).pool))
    : undefined;
}

export function stageNamed(name: string): Stage | undefined {
  return stages.find((s) => s.name === name);
}

export function allStages(): Stage[] {
  return [...stages];
}
