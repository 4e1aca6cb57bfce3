/**
 * One stage of the ingest bench in its own process (`node --import tsx bench/ingest-stage.ts
 * <ship|parse|sink> <json>`), so the three stages use both cores as separate `logflow run`
 * processes would — but on the bench's own random topics, groups and index prefix.
 *
 * Prints one JSON line per second (`{"stage", "t", …stats}`) and, after SIGTERM, a final line
 * with `"final": true` (the sink's includes the append → acknowledged latency percentiles).
 */
import { join } from 'node:path';
import { pipelineSerdes } from '../app/serdes.ts';
import { loadConfig, type PipelineTopics } from '../common/config.ts';
import { createElasticsearchSink } from '../connectors/elasticsearch/sink.ts';
import { createShipper } from '../connectors/file/file-source.ts';
import { buildParseTopology, parseStreamsConfig } from '../pipeline/parse/parse-topology.ts';
import { LogFlowStreams } from '../topology/index.ts';
import { KafkaTransport } from '../topology/transport/kafka-transport.ts';

export interface StageArgs {
  run: string;
  topics: PipelineTopics;
  files: string;
  dataDir: string;
  indexPrefix: string;
  partitions: number;
}

const [role, json] = process.argv.slice(2);
const args = JSON.parse(json) as StageArgs;
const config = loadConfig(process.env, {
  mode: 'kafka',
  topics: args.topics,
  dataDir: args.dataDir,
  partitions: args.partitions,
});
const transport = new KafkaTransport({ clientId: `bench-${role}-${args.run}` });
const serdes = pipelineSerdes(config);
const emit = (line: Record<string, unknown>) =>
  process.stdout.write(`${JSON.stringify({ stage: role, t: Date.now(), ...line })}\n`);

let stop: () => Promise<void>;
let stats: () => Record<string, unknown>;
/** Append → acknowledged latencies (ms) of the logs carrying a `bench_t` field. */
const latencies: number[] = [];

if (role === 'ship') {
  const producer = transport.producer({ lingerMs: 5 });
  await producer.connect();
  const shipper = createShipper({
    paths: [args.files],
    producer,
    serde: serdes.raw,
    topic: args.topics.raw,
    checkpointPath: join(args.dataDir, 'checkpoint.json'),
    startAt: 'beginning',
  });
  await shipper.start();
  stop = async () => {
    await shipper.stop();
    await producer.disconnect();
  };
  stats = () => ({ ...shipper.stats() });
} else if (role === 'parse') {
  const streams = new LogFlowStreams(buildParseTopology(config, serdes), {
    ...parseStreamsConfig(config),
    applicationId: `bench-parse-${args.run}`,
    transport,
    defaultPartitions: args.partitions,
  });
  await streams.start();
  stop = () => streams.close();
  stats = () => ({});
} else if (role === 'sink') {
  const sink = createElasticsearchSink({
    transport,
    serde: serdes.parsed,
    node: config.elasticsearchUrl,
    indexPrefix: args.indexPrefix,
    topic: args.topics.parsed,
    deadLetterTopic: args.topics.deadLetter,
    groupId: `bench-sink-${args.run}`,
    onWritten(logs, ackedAt) {
      for (const log of logs) {
        const appended = log.extra_fields.bench_t;
        if (appended) latencies.push(ackedAt - Number(appended));
      }
    },
  });
  await sink.start();
  stop = () => sink.stop();
  stats = () => {
    const { committed: _, ...rest } = sink.getStats();
    return rest;
  };
} else {
  throw new Error(`unknown stage ${role}`);
}

const ticker = setInterval(() => emit(stats()), 1_000);
let stopping = false;
process.on('SIGTERM', async () => {
  if (stopping) return;
  stopping = true;
  clearInterval(ticker);
  await stop().catch(() => undefined);
  await transport.close().catch(() => undefined);
  latencies.sort((a, b) => a - b);
  const at = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];
  const latency =
    role === 'sink' && latencies.length > 0
      ? {
          count: latencies.length,
          p50Ms: at(50),
          p90Ms: at(90),
          p99Ms: at(99),
          maxMs: latencies[latencies.length - 1],
        }
      : undefined;
  // Exit once the line is flushed: stdout to a pipe is asynchronous.
  process.stdout.write(
    `${JSON.stringify({ stage: role, t: Date.now(), final: true, ...stats(), latency })}\n`,
    () => process.exit(0),
  );
});
emit({ started: true });
