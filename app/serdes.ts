/**
 * The serdes of the pipeline's four topics, per mode. Distributed: Avro in the Confluent wire
 * format through the Schema Registry (schemas/*.avsc), so kcat users and other consumers see
 * registered, evolvable types. Embedded: JSON — the in-process transport never leaves the process,
 * and no registry runs there.
 */
import type { LogFlowConfig } from '../common/config.ts';
import type { AlertEvent } from '../pipeline/alert/types.ts';
import type { RawLog } from '../pipeline/parse/raw-log.ts';
import type { ParsedLog } from '../storage/logs/types.ts';
import type { MetricWindow } from '../storage/metrics/types.ts';
import type { Serde } from '../topology/serde.ts';
import { SchemaRegistryClient, Serdes } from '../topology/serdes/index.ts';

export interface PipelineSerdes {
  raw: Serde<RawLog>;
  parsed: Serde<ParsedLog>;
  metrics: Serde<MetricWindow>;
  alerts: Serde<AlertEvent>;
}

export function pipelineSerdes(config: LogFlowConfig): PipelineSerdes {
  if (config.mode === 'embedded') {
    return { raw: Serdes.Json(), parsed: Serdes.Json(), metrics: Serdes.Json(), alerts: Serdes.Json() };
  }
  const registry = new SchemaRegistryClient({ url: config.schemaRegistryUrl });
  return {
    raw: Serdes.Avro<RawLog>({ registry, schema: 'logs-raw' }),
    parsed: Serdes.Avro<ParsedLog>({ registry, schema: 'logs-parsed' }),
    metrics: Serdes.Avro<MetricWindow>({ registry, schema: 'logs-metrics' }),
    alerts: Serdes.Avro<AlertEvent>({ registry, schema: 'alerts' }),
  };
}
