/**
 * Proves the broker and the Schema Registry are the real things: a record whose Avro value schema
 * is registered through @kafkajs/confluent-schema-registry travels through Kafka in the Confluent
 * wire format (magic byte 0, 4-byte schema id, Avro body) and decodes back to the same value.
 */
import { SchemaType } from '@kafkajs/confluent-schema-registry';
import { describe, expect, it } from 'vitest';
import {
  createTopic,
  kafkaConsumer,
  kafkaProducer,
  registrySubject,
  schemaRegistry,
} from '../../helpers/services.ts';
import { waitFor } from '../../helpers/wait-for.ts';

const schema = {
  type: 'record',
  name: 'SmokeLog',
  namespace: 'dev.logflow.smoke',
  fields: [
    { name: 'service', type: 'string' },
    { name: 'level', type: { type: 'enum', name: 'Level', symbols: ['DEBUG', 'INFO', 'WARN', 'ERROR'] } },
    { name: 'message', type: 'string' },
    { name: 'timestamp', type: { type: 'long', logicalType: 'timestamp-millis' } },
  ],
};

describe('kafka + schema registry smoke', () => {
  it('produces and consumes an Avro record in the Confluent wire format', async () => {
    const registry = schemaRegistry();
    const topic = await createTopic({ prefix: 'lf-smoke', partitions: 2 });
    const subject = registrySubject('lf-smoke');

    const { id } = await registry.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(schema) },
      { subject },
    );
    expect(id).toBeGreaterThan(0);
    // The registry serves the same schema back by id and as the subject's latest version.
    expect(await registry.getLatestSchemaId(subject)).toBe(id);
    expect(JSON.parse(JSON.stringify(await registry.getSchema(id)))).toBeTruthy();

    const value = {
      service: 'auth',
      level: 'ERROR',
      message: 'login failed for alice',
      timestamp: 1_700_000_000_000,
    };
    const encoded = await registry.encode(id, value);

    const producer = await kafkaProducer();
    await producer.send({ topic, messages: [{ key: 'auth', value: encoded }] });

    const consumer = await kafkaConsumer();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received: { key: string; value: Buffer; partition: number; offset: string }[] = [];
    await consumer.run({
      eachMessage: async ({ message, partition }) => {
        received.push({
          key: message.key!.toString(),
          value: message.value!,
          partition,
          offset: message.offset,
        });
      },
    });
    await waitFor(() => received.length === 1, { timeoutMs: 60_000, what: 'the Avro record' });

    const [record] = received;
    expect(record.key).toBe('auth');
    expect(record.offset).toBe('0');
    // Confluent wire format: magic byte 0, then the schema id as a big-endian int32.
    expect(record.value.readUInt8(0)).toBe(0);
    expect(record.value.readInt32BE(1)).toBe(id);
    expect(await registry.decode(record.value)).toEqual(value);
  });

  it('rejects an incompatible schema change under the default BACKWARD rule', async () => {
    const registry = schemaRegistry();
    const subject = registrySubject('lf-smoke');
    await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(schema) }, { subject });
    // A new required field without a default cannot read old records: not backward compatible.
    const breaking = { ...schema, fields: [...schema.fields, { name: 'host', type: 'string' }] };
    await expect(
      registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(breaking) }, { subject }),
    ).rejects.toThrow();
    const compatible = {
      ...schema,
      fields: [...schema.fields, { name: 'host', type: 'string', default: '' }],
    };
    const { id } = await registry.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(compatible) },
      { subject },
    );
    expect(await registry.getLatestSchemaId(subject)).toBe(id);
  });
});
