/**
 * The topology benchmark's workload: N RawLog records (schemas/logs-raw.avsc, Confluent Avro,
 * ~150 bytes each) over K keys on a P-partition input topic, event times 10 ms apart. Written once
 * per run with a fast non-idempotent producer; every phase reads the same input with its own group.
 */
import type { Kafka } from 'kafkajs';
import { AvroSerde } from '../topology/serdes/avro-serde.ts';
import type { SchemaRegistryClient } from '../topology/serdes/schema-registry.ts';

export interface Workload {
  records: number;
  partitions: number;
  keys: number;
  /** Event time of record 0; record i is at start + i * stepMs. */
  startMs: number;
  stepMs: number;
}

export interface RawLog {
  raw_log: string;
  metadata: {
    source: string;
    file_path: string;
    shipper_timestamp: number;
    service: string;
    file_id: string | null;
    offset: number | null;
    truncated: boolean;
  };
}

const SERVICES = ['api-gateway', 'auth-service', 'payment-service', 'user-service', 'notification-service'];
const LEVELS = ['INFO', 'INFO', 'INFO', 'INFO', 'INFO', 'INFO', 'INFO', 'WARN', 'WARN', 'ERROR', 'DEBUG'];

export function rawLog(i: number, w: Workload): { key: string; value: RawLog; timestamp: number } {
  const service = SERVICES[i % SERVICES.length];
  const key = `/var/log/${service}/${i % w.keys}.log`;
  const timestamp = w.startMs + i * w.stepMs;
  return {
    key,
    timestamp,
    value: {
      raw_log: `${new Date(timestamp).toISOString()} ${LEVELS[i % LEVELS.length]} [${service}] request ${i} handled in ${i % 997} ms`,
      metadata: {
        source: 'bench-host',
        file_path: key,
        shipper_timestamp: timestamp,
        service,
        file_id: null,
        offset: i * 120,
        truncated: false,
      },
    },
  };
}

/** Writes the workload to `topic`; returns the average value size in bytes. */
export async function writeWorkload(
  kafka: Kafka,
  registry: SchemaRegistryClient,
  topic: string,
  w: Workload,
): Promise<number> {
  const serde = new AvroSerde<RawLog>({ registry, schema: 'logs-raw' });
  await serde.prepare([topic]);
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const chunk = 10_000;
  let bytes = 0;
  const pending: Promise<unknown>[] = [];
  for (let start = 0; start < w.records; start += chunk) {
    const messages = [];
    for (let i = start; i < Math.min(start + chunk, w.records); i++) {
      const r = rawLog(i, w);
      const value = serde.serialize(topic, r.value) as Buffer;
      bytes += value.length;
      messages.push({ key: r.key, value, timestamp: String(r.timestamp) });
    }
    pending.push(producer.send({ topic, messages, acks: 1 }));
    if (pending.length >= 4) await pending.shift();
  }
  await Promise.all(pending);
  await producer.disconnect();
  return bytes / w.records;
}
