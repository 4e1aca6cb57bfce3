/**
 * The aggregate stage as its own process, for the kill -9 test:
 *   tsx aggregate-child.ts <applicationId> <parsedTopic> <metricsTopic>
 * Prints "RUNNING" once started; runs until killed.
 */
import { loadConfig } from '../../../common/config.ts';
import { buildAggregateTopology } from '../../../pipeline/aggregate/aggregate-topology.ts';
import type { ParsedLog } from '../../../storage/logs/types.ts';
import type { MetricWindow } from '../../../storage/metrics/types.ts';
import { LogFlowStreams } from '../../../topology/index.ts';
import { AvroSerde, SchemaRegistryClient } from '../../../topology/serdes/index.ts';
import { KafkaTransport } from '../../../topology/transport/kafka-transport.ts';

const [applicationId, parsed, metrics] = process.argv.slice(2);
const base = loadConfig();
const config = { ...base, topics: { ...base.topics, parsed, metrics } };
const registry = new SchemaRegistryClient({ url: config.schemaRegistryUrl });
const topology = buildAggregateTopology(config, {
  parsed: new AvroSerde<ParsedLog>({ registry, schema: 'logs-parsed' }),
  metrics: new AvroSerde<MetricWindow>({ registry, schema: 'logs-metrics' }),
});
const streams = new LogFlowStreams(topology, {
  applicationId,
  transport: new KafkaTransport({ clientId: 'logflow-aggregate-child' }),
  processingGuarantee: 'exactly_once',
  // Stable across restarts, as a deployment's instance name would be: the restarted process's
  // transactional producer fences the killed one and aborts its open transaction at once.
  instanceId: 'aggregate-0',
});
await streams.start();
console.log('RUNNING');
