/**
 * `npm run bench -- metrics [--records N] [--partitions P] [--bursts B] [--guarantee exactly_once|at_least_once]`
 *
 * Through the real services (`logflow services up`):
 *  1. aggregate-stage throughput: N Avro ParsedLogs pre-produced to a fresh logs-parsed topic, then
 *     one aggregate process (LogFlowStreams) counts them into 1m and 1h windows; records/s from
 *     start until its committed offsets reach the end of the input (target ≥ 50,000/s/process).
 *  2. burst → webhook latency: aggregate + alert stage + webhook connector + a local receiver;
 *     B bursts of 100 ERRORs (each for its own service and rule); time from the last log of a
 *     burst being acknowledged by Kafka to the FIRING webhook arriving (target p99 ≤ window +
 *     grace + 2 s = 72 s for the default 60 s rule window and 10 s grace).
 * Prints a table and writes bench/results/metrics-<date>.json.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type LogFlowConfig, loadConfig } from '../common/config.ts';
import { MemoryDeliveryLedger } from '../connectors/webhook/delivery-ledger.ts';
import { createWebhookConnector } from '../connectors/webhook/webhook-connector.ts';
import { buildAggregateTopology } from '../pipeline/aggregate/aggregate-topology.ts';
import { buildAlertTopology } from '../pipeline/alert/alert-topology.ts';
import type { AlertEvent } from '../pipeline/alert/types.ts';
import type { AlertRule } from '../storage/db/types.ts';
import type { ParsedLog } from '../storage/logs/types.ts';
import type { MetricWindow } from '../storage/metrics/types.ts';
import { randomName } from '../test/helpers/names.ts';
import { TestReceiver } from '../test/unit/alert/webhook-receiver.ts';
import { LogFlowStreams, type ProcessingGuarantee, type Topology } from '../topology/index.ts';
import { AvroSerde, SchemaRegistryClient } from '../topology/serdes/index.ts';
import { KafkaTransport } from '../topology/transport/kafka-transport.ts';
import { printTable, writeResults } from './results.ts';

export const description =
  'aggregate-stage throughput through real Kafka, and burst-to-webhook alert latency (aggregate → alert → webhook)';

const SERVICES = ['payment-service', 'auth-service', 'user-service', 'order-service', 'inventory-service'];
const LEVELS = ['INFO', 'INFO', 'INFO', 'INFO', 'INFO', 'INFO', 'INFO', 'WARN', 'WARN', 'ERROR'] as const;

function log(i: number, service: string, level: ParsedLog['level'], timestamp: number): ParsedLog {
  return {
    id: `bench-${i}`,
    timestamp,
    level,
    service,
    message: `${level} message ${i % 97} from ${service}`,
    source: { hostname: 'bench', file: '/var/log/bench.log' },
    extra_fields: {},
    ingested_at: timestamp,
  };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function waitUntil(
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Env {
  config: LogFlowConfig;
  transport: KafkaTransport;
  serdes: { parsed: AvroSerde<ParsedLog>; metrics: AvroSerde<MetricWindow>; alerts: AvroSerde<AlertEvent> };
  prefix: string;
}

async function makeEnv(partitions: number): Promise<Env> {
  const base = loadConfig();
  const prefix = randomName('lfbench-metrics');
  const config: LogFlowConfig = {
    ...base,
    partitions,
    topics: {
      ...base.topics,
      parsed: `${prefix}-logs-parsed`,
      metrics: `${prefix}-logs-metrics`,
      alerts: `${prefix}-alerts`,
    },
  };
  const transport = new KafkaTransport({
    clientId: 'logflow-bench-metrics',
    consumer: { partitionsConsumedConcurrently: partitions },
  });
  await transport.ensureTopics(
    [config.topics.parsed, config.topics.metrics, config.topics.alerts].map((name) => ({ name, partitions })),
  );
  const registry = new SchemaRegistryClient({ url: config.schemaRegistryUrl });
  return {
    config,
    transport,
    prefix,
    serdes: {
      parsed: new AvroSerde<ParsedLog>({ registry, schema: 'logs-parsed' }),
      metrics: new AvroSerde<MetricWindow>({ registry, schema: 'logs-metrics' }),
      alerts: new AvroSerde<AlertEvent>({ registry, schema: 'alerts' }),
    },
  };
}

async function cleanup(env: Env): Promise<void> {
  const admin = env.transport.kafka.admin();
  await admin.connect();
  const topics = (await admin.listTopics()).filter((t) => t.startsWith(env.prefix));
  await admin.deleteTopics({ topics }).catch(() => {});
  await admin.disconnect();
  await env.transport.close();
}

async function produce(env: Env, logs: ParsedLog[]): Promise<void> {
  const producer = env.transport.producer({ lingerMs: 5 });
  await producer.connect();
  const topic = env.config.topics.parsed;
  for (let i = 0; i < logs.length; i += 10_000) {
    const chunk = logs.slice(i, i + 10_000);
    const messages = [];
    for (const l of chunk) {
      messages.push({
        topic,
        key: Buffer.from(l.service),
        value: await env.serdes.parsed.serialize(topic, l),
        timestamp: l.timestamp,
      });
    }
    await producer.send(messages);
  }
  await producer.disconnect();
}

async function consumedAll(env: Env, groupId: string, topic: string): Promise<boolean> {
  const [end, committed] = await Promise.all([
    env.transport.endOffsets(topic),
    env.transport.committedOffsets(groupId, topic),
  ]);
  // With exactly-once the last offset of a partition is a transaction marker: committed may stop one short.
  return end.every((e) => {
    const c = committed.find((x) => x.partition === e.partition)?.offset ?? 0;
    return e.offset - c <= 1 || e.offset === 0;
  });
}

async function throughput(partitions: number, records: number, guarantee: ProcessingGuarantee) {
  const env = await makeEnv(partitions);
  try {
    const start = Date.now() - 30 * 60_000;
    const logs = Array.from({ length: records }, (_, i) =>
      log(
        i,
        SERVICES[i % SERVICES.length],
        LEVELS[(i * 7) % LEVELS.length],
        start + Math.floor((i * 30 * 60_000) / records),
      ),
    );
    await produce(env, logs);
    const appId = `${env.prefix}-aggregate`;
    const streams = new LogFlowStreams(buildAggregateTopology(env.config, env.serdes), {
      applicationId: appId,
      transport: env.transport,
      processingGuarantee: guarantee,
      defaultPartitions: partitions,
    });
    const t0 = Date.now();
    await streams.start();
    await waitUntil(
      () => consumedAll(env, appId, env.config.topics.parsed),
      600_000,
      'aggregate to consume its input',
    );
    const inputDone = Date.now();
    const repartition = [...streams.topology.internalTopics].map((t) => streams.topology.topicName(t, appId));
    for (const t of repartition)
      await waitUntil(() => consumedAll(env, appId, t), 600_000, `repartition ${t}`);
    const elapsed = (Date.now() - t0) / 1000;
    await streams.close();
    return {
      records,
      partitions,
      guarantee,
      seconds: elapsed,
      recordsPerSecond: Math.round(records / elapsed),
      inputConsumedSeconds: (inputDone - t0) / 1000,
    };
  } finally {
    await cleanup(env);
  }
}

function rule(id: number, service: string, url: string): AlertRule {
  const now = new Date().toISOString();
  return {
    id,
    name: `bench burst ${id}`,
    description: null,
    service,
    levels: ['ERROR'],
    condition: 'count_above',
    threshold: 50,
    recovery_threshold: null,
    window_seconds: 60,
    for_seconds: 0,
    keep_firing_seconds: 0,
    severity: 'critical',
    labels: {},
    enabled: true,
    targets: [{ url, format: 'json' }],
    created_at: now,
    updated_at: now,
  };
}

async function burstLatency(partitions: number, bursts: number, guarantee: ProcessingGuarantee) {
  const env = await makeEnv(partitions);
  const receiver = await new TestReceiver().start();
  const arrivals = new Map<string, number>();
  receiver.respond = ({ body }) => {
    const payload = JSON.parse(body) as { status: string; alert: { service: string } };
    if (payload.status === 'firing' && !arrivals.has(payload.alert.service))
      arrivals.set(payload.alert.service, Date.now());
    return 200;
  };
  const services = Array.from({ length: bursts }, (_, i) => `bench-burst-${i}`);
  const rules = services.map((s, i) => rule(i + 1, s, receiver.url));
  const dir = mkdtempSync(join(tmpdir(), 'lfbench-'));
  const streams: LogFlowStreams[] = [];
  const alertStage = buildAlertTopology(env.config, env.serdes, {
    list: async () => rules,
    watch: () => () => {},
  });
  const hooks = createWebhookConnector(
    { ...env.config, webhookSecret: 'bench', dataDir: dir },
    {
      transport: env.transport,
      serde: env.serdes.alerts,
      ledger: new MemoryDeliveryLedger(),
      allowList: ['127.0.0.1'],
      groupId: `${env.prefix}-hooks`,
    },
  );
  try {
    for (const [name, topology] of [
      ['aggregate', buildAggregateTopology(env.config, env.serdes)],
      ['alert', alertStage.topology],
    ] as [string, Topology][]) {
      const s = new LogFlowStreams(topology, {
        applicationId: `${env.prefix}-${name}`,
        transport: env.transport,
        processingGuarantee: guarantee,
        defaultPartitions: partitions,
      });
      streams.push(s);
    }
    await alertStage.start(env.transport);
    for (const s of streams) await s.start();
    await hooks.start();
    // warm-up: a few logs through the whole chain so groups, schemas and transactions are ready
    await produce(env, [log(0, 'bench-warmup', 'INFO', Date.now())]);
    await waitUntil(
      () => consumedAll(env, `${env.prefix}-alert`, env.config.topics.metrics),
      120_000,
      'warm-up',
    );

    const latencies: number[] = [];
    for (const service of services) {
      const now = Date.now();
      const logs = Array.from({ length: 100 }, (_, i) => log(i, service, 'ERROR', now + i));
      await produce(env, logs);
      const lastLogAcked = Date.now();
      await waitUntil(() => arrivals.has(service), 120_000, `FIRING for ${service}`);
      latencies.push(arrivals.get(service)! - lastLogAcked);
    }
    latencies.sort((a, b) => a - b);
    return {
      bursts,
      guarantee,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      maxMs: latencies[latencies.length - 1],
      targetP99Ms: 60_000 + 10_000 + 2_000,
      latenciesMs: latencies,
    };
  } finally {
    await hooks.stop();
    for (const s of streams) await s.close();
    await alertStage.stop();
    await receiver.close();
    rmSync(dir, { recursive: true, force: true });
    await cleanup(env);
  }
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      records: { type: 'string', default: '300000' },
      partitions: { type: 'string', default: '6' },
      bursts: { type: 'string', default: '10' },
      guarantee: { type: 'string', default: 'exactly_once' },
      only: { type: 'string' },
    },
  });
  const guarantee = values.guarantee as ProcessingGuarantee;
  const only = values.only?.split(',');
  const results: Record<string, unknown> = {};
  const rows: Record<string, string | number>[] = [];
  if (!only || only.includes('throughput')) {
    const t = await throughput(Number(values.partitions), Number(values.records), guarantee);
    results.throughput = t;
    rows.push({
      measure: `aggregate throughput (${t.records} logs, ${t.partitions} partitions, ${guarantee})`,
      value: `${t.recordsPerSecond.toLocaleString('en-US')} records/s`,
      target: '≥ 50,000 records/s',
      met: t.recordsPerSecond >= 50_000 ? 'yes' : 'no',
    });
  }
  if (!only || only.includes('latency')) {
    const l = await burstLatency(Number(values.partitions), Number(values.bursts), guarantee);
    results.latency = l;
    rows.push(
      { measure: `burst → webhook p50 (${l.bursts} bursts)`, value: `${l.p50Ms} ms`, target: '', met: '' },
      {
        measure: `burst → webhook p99 (${l.bursts} bursts)`,
        value: `${l.p99Ms} ms`,
        target: `≤ ${l.targetP99Ms} ms`,
        met: l.p99Ms <= l.targetP99Ms ? 'yes' : 'no',
      },
    );
  }
  printTable(rows);
  console.log(`\nresults: ${writeResults('metrics', results)}`);
}
