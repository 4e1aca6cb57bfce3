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
import type { ParsedLog } from '../storage/logs/types.ts';
import { LogFlowStreams, type Serde } from '../topology/index.ts';
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
/** Every line carries this process's CPU time so far (µs, user + system): CPU per log per stage. */
const emit = (line: Record<string, unknown>) => {
  const cpu = process.cpuUsage();
  process.stdout.write(
    `${JSON.stringify({ stage: role, t: Date.now(), cpuUs: cpu.user + cpu.system, ...line })}\n`,
  );
};

let stop: () => Promise<void>;
let stats: () => Record<string, unknown>;
/** Append → acknowledged latencies (ms) of the logs carrying a `bench_t` field. */
const latencies: number[] = [];
/**
 * The same logs' time per hop (ms): append → parsed (`ingested_at`: shipper poll, multiline
 * hold, produce, parse fetch), parsed → decoded in the sink (parse produce, sink fetch), and
 * decoded → bulk acknowledged (linger, waiting for the bulk in flight, the bulk itself).
 */
const hops = { toParsed: [] as number[], toSink: [] as number[], toAck: [] as number[] };
const arrivedAt = new WeakMap<ParsedLog, number>();

/** The sink's serde, noting when each latency-measured log was decoded. */
function timedSerde(inner: Serde<ParsedLog>): Serde<ParsedLog> {
  const note = (log: ParsedLog) => {
    if (log?.extra_fields?.bench_t) arrivedAt.set(log, Date.now());
    return log;
  };
  return {
    name: inner.name,
    serialize: (topic, value) => inner.serialize(topic, value),
    deserialize(topic, data) {
      const out = inner.deserialize(topic, data);
      return out instanceof Promise ? out.then(note) : note(out);
    },
  };
}

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
    serde: timedSerde(serdes.parsed),
    node: config.elasticsearchUrl,
    indexPrefix: args.indexPrefix,
    topic: args.topics.parsed,
    deadLetterTopic: args.topics.deadLetter,
    groupId: `bench-sink-${args.run}`,
    onWritten(logs, ackedAt) {
      for (const log of logs) {
        const appended = log.extra_fields.bench_t;
        if (!appended) continue;
        latencies.push(ackedAt - Number(appended));
        const arrived = arrivedAt.get(log);
        hops.toParsed.push(log.ingested_at - Number(appended));
        if (arrived !== undefined) {
          hops.toSink.push(arrived - log.ingested_at);
          hops.toAck.push(ackedAt - arrived);
        }
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
  const percentile = (values: number[], p: number) =>
    values[Math.min(values.length - 1, Math.floor((p / 100) * values.length))];
  latencies.sort((a, b) => a - b);
  const at = (p: number) => percentile(latencies, p);
  const hopPercentiles = Object.fromEntries(
    Object.entries(hops).map(([hop, values]) => {
      values.sort((a, b) => a - b);
      return [hop, { p50Ms: percentile(values, 50), p99Ms: percentile(values, 99) }];
    }),
  );
  const latency =
    role === 'sink' && latencies.length > 0
      ? {
          count: latencies.length,
          p50Ms: at(50),
          p90Ms: at(90),
          p99Ms: at(99),
          maxMs: latencies[latencies.length - 1],
          hops: hopPercentiles,
        }
      : undefined;
  // Exit once the line is flushed: stdout to a pipe is asynchronous.
  process.stdout.write(
    `${JSON.stringify({ stage: role, t: Date.now(), final: true, ...stats(), latency })}\n`,
    () => process.exit(0),
  );
});
emit({ started: true });
