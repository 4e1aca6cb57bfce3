import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../common/config.ts';
import { LogFlowError } from '../../../common/errors.ts';
import { AvroSerde, loadSchema, readSchemaId } from '../../../topology/serdes/index.ts';
import { randomName } from '../../helpers/names.ts';
import { waitFor } from '../../helpers/wait-for.ts';
import { createTopic, groupId, kafkaTransport, schemaRegistry, startMember } from './kafka-helpers.ts';

const FIXTURES = new URL('../../unit/serdes/fixtures/', import.meta.url).pathname;
const v1 = loadSchema('test-event', FIXTURES) as { fields: object[] };
/** A compatible evolution: a new field with a default. */
const v2 = { ...v1, fields: [...v1.fields, { name: 'host', type: ['null', 'string'], default: null }] };
/** An incompatible one: a new required field without a default (v2 readers could not read v1 data). */
const broken = { ...v1, fields: [...v1.fields, { name: 'required_now', type: 'string' }] };

interface TestEvent {
  id: number;
  message: string;
  level: string;
  tags: string[];
  host?: string | null;
}

async function compatibilityOf(subject: string): Promise<string> {
  const res = await fetch(`${loadConfig().schemaRegistryUrl}/config/${subject}`);
  const body = (await res.json()) as { compatibilityLevel?: string; compatibility?: string };
  return body.compatibilityLevel ?? body.compatibility ?? '';
}

describe('AvroSerde with the real Schema Registry', () => {
  it('registers under <topic>-value with BACKWARD compatibility and round-trips records', async () => {
    const registry = schemaRegistry();
    const topic = randomName('lf-avro');
    const serde = new AvroSerde<TestEvent>({ registry, schema: v1 });
    const value = { id: 42, message: 'hello', level: 'WARN', tags: ['a'] };
    const bytes = (await serde.serialize(topic, value))!;
    expect(bytes[0]).toBe(0);
    const id = readSchemaId(bytes);
    expect(await serde.schemaIdFor(topic)).toBe(id);
    expect(await compatibilityOf(`${topic}-value`)).toBe('BACKWARD');
    // After the first record both directions are synchronous (no per-record registry call).
    const again = serde.serialize(topic, value);
    expect(again).toBeInstanceOf(Buffer);
    expect(serde.deserialize(topic, again as Buffer)).toEqual(value);

    // A second serde (another process) learns the writer schema by id, once.
    const reader = new AvroSerde<TestEvent>({ registry: schemaRegistry(), schema: v1 });
    expect(await reader.deserialize(topic, bytes)).toEqual(value);
    expect(reader.deserialize(topic, bytes)).toEqual(value);

    const keySerde = new AvroSerde<TestEvent>({ registry, schema: v1, isKey: true });
    await keySerde.prepare([topic]);
    expect(await compatibilityOf(`${topic}-key`)).toBe('BACKWARD');
  });

  it('a compatible evolution registers, and its reader decodes records written with the old schema', async () => {
    const topic = randomName('lf-avro');
    const oldWriter = new AvroSerde<TestEvent>({ registry: schemaRegistry(), schema: v1 });
    const oldBytes = (await oldWriter.serialize(topic, { id: 1, message: 'old', level: 'INFO', tags: [] }))!;

    const newSerde = new AvroSerde<TestEvent>({ registry: schemaRegistry(), schema: v2 });
    const newBytes = (await newSerde.serialize(topic, {
      id: 2,
      message: 'new',
      level: 'INFO',
      tags: [],
      host: 'h1',
    }))!;
    expect(readSchemaId(newBytes)).not.toBe(readSchemaId(oldBytes));
    expect(await newSerde.deserialize(topic, oldBytes)).toEqual({
      id: 1,
      message: 'old',
      level: 'INFO',
      tags: [],
      host: null,
    });
    expect(await newSerde.deserialize(topic, newBytes)).toMatchObject({ id: 2, host: 'h1' });
  });

  it('producing with a schema that breaks BACKWARD compatibility fails with LF_ERR_SCHEMA_INCOMPATIBLE', async () => {
    const topic = randomName('lf-avro');
    await new AvroSerde<TestEvent>({ registry: schemaRegistry(), schema: v1 }).prepare([topic]);
    const evolved = new AvroSerde<TestEvent & { required_now: string }>({
      registry: schemaRegistry(),
      schema: broken,
    });
    let error: unknown;
    try {
      await evolved.serialize(topic, { id: 1, message: 'x', level: 'INFO', tags: [], required_now: 'y' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(LogFlowError);
    expect((error as LogFlowError).code).toBe('LF_ERR_SCHEMA_INCOMPATIBLE');
    expect((error as LogFlowError).message).toContain(`${topic}-value`);
  });

  it('bytes that are not Avro of a known schema fail with LF_ERR_SERDE_DESERIALIZE', async () => {
    const serde = new AvroSerde<TestEvent>({ registry: schemaRegistry(), schema: v1 });
    const code = { code: 'LF_ERR_SERDE_DESERIALIZE' };
    await expect(async () => serde.deserialize('t', Buffer.from('{"json":1}'))).rejects.toMatchObject(code);
    // Magic byte right, schema id unknown to the registry.
    await expect(async () =>
      serde.deserialize('t', Buffer.from([0, 0x7f, 0xff, 0xff, 0xf0, 2])),
    ).rejects.toMatchObject(code);
  });

  it('Avro records travel through Kafka and decode on the other side', async () => {
    const transport = kafkaTransport();
    const topic = await createTopic(transport, 2);
    const serde = new AvroSerde<TestEvent>({ registry: schemaRegistry(), schema: v1 });
    const producer = transport.producer();
    await producer.connect();
    const values = Array.from({ length: 100 }, (_, i) => ({
      id: i,
      message: `m${i}`,
      level: 'DEBUG',
      tags: [],
    }));
    await producer.send(
      await Promise.all(
        values.map(async (v) => ({
          topic,
          key: Buffer.from(String(v.id)),
          value: await serde.serialize(topic, v),
        })),
      ),
    );
    await producer.disconnect();
    const member = await startMember(transport, groupId(), [topic]);
    await waitFor(() => member.received.length === 100, { what: '100 Avro records' });
    const reader = new AvroSerde<TestEvent>({ registry: schemaRegistry(), schema: v1 });
    const decoded = await Promise.all(member.received.map((m) => reader.deserialize(topic, m.value)));
    expect(decoded.sort((a, b) => a.id - b.id)).toEqual(values);
  });
});
