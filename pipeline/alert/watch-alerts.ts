/**
 * Prints alert events from the `alerts` topic as JSON lines (Debian's kcat cannot decode Avro).
 *   npx tsx pipeline/alert/watch-alerts.ts              # new events only
 *   npx tsx pipeline/alert/watch-alerts.ts --from-beginning
 * Uses KAFKA_BROKERS and SCHEMA_REGISTRY_URL like every other command; reads with a throwaway
 * consumer group that never commits.
 */
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../../common/config.ts';
import { AvroSerde, SchemaRegistryClient } from '../../topology/serdes/index.ts';
import { KafkaTransport } from '../../topology/transport/kafka-transport.ts';
import type { AlertEvent } from './types.ts';

const config = loadConfig();
const fromBeginning = process.argv.includes('--from-beginning');
const transport = new KafkaTransport({ clientId: 'logflow-watch-alerts' });
const serde = new AvroSerde<AlertEvent>({
  registry: new SchemaRegistryClient({ url: config.schemaRegistryUrl }),
  schema: 'alerts',
});
const consumer = transport.consumer({
  groupId: `logflow-watch-${randomBytes(4).toString('hex')}`,
  fromBeginning,
});
await consumer.connect();
await consumer.subscribe([config.topics.alerts]);
await consumer.run({
  eachBatch: async (batch) => {
    for (const m of batch.messages) {
      const e = await serde.deserialize(batch.topic, m.value);
      console.log(
        JSON.stringify({
          ...e,
          started_at: new Date(e.started_at).toISOString(),
          resolved_at: e.resolved_at && new Date(e.resolved_at).toISOString(),
          emitted_at: new Date(e.emitted_at).toISOString(),
        }),
      );
    }
  },
});
const stop = async () => {
  await consumer.disconnect();
  await transport.close();
  process.exit(0);
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
