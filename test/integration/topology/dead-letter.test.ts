import { describe, expect, it } from 'vitest';
import {
  Consumed,
  DLQ_HEADERS,
  ErrorHandlers,
  LogFlowStreams,
  Produced,
  Serdes,
  TopologyBuilder,
} from '../../../topology/index.ts';
import { AvroSerde, loadSchema } from '../../../topology/serdes/index.ts';
import {
  applicationId,
  createTopic,
  kafkaTransport,
  readAll,
  schemaRegistry,
  waitCaughtUp,
} from './kafka-helpers.ts';

const FIXTURES = new URL('../../unit/serdes/fixtures/', import.meta.url).pathname;

interface TestEvent {
  id: number;
  message: string;
  level: string;
  tags: string[];
}

describe('a poison record on the real broker', () => {
  it('lands in the dead-letter topic with its original bytes and error headers while the rest flow on', async () => {
    const transport = kafkaTransport();
    const input = await createTopic(transport, 2);
    const output = await createTopic(transport, 2);
    const dlq = await createTopic(transport, 1, { prefix: 'lf-test-dlq' });
    const app = applicationId(transport, 'lf-test-dlq-app');
    const avro = new AvroSerde<TestEvent>({
      registry: schemaRegistry(),
      schema: loadSchema('test-event', FIXTURES),
    });

    const poison = Buffer.from('{"this is":"json, not avro"}');
    const producer = transport.producer();
    await producer.connect();
    const messages = [];
    for (let i = 0; i < 200; i++) {
      messages.push({
        topic: input,
        key: Buffer.from(`k${i % 5}`),
        value:
          i === 100
            ? poison
            : await avro.serialize(input, { id: i, message: `m${i}`, level: 'INFO', tags: [] }),
        partition: i % 2,
        headers: i === 100 ? { origin: Buffer.from('bad-producer') } : undefined,
      });
    }
    const acks = await producer.send(messages);
    await producer.disconnect();

    const builder = new TopologyBuilder();
    builder
      .stream(input, Consumed.with(Serdes.String(), avro))
      .mapValues((v) => ({ ...v, message: v.message.toUpperCase() }))
      .to(output, Produced.with(Serdes.String(), avro));
    const streams = new LogFlowStreams(builder.build(), {
      applicationId: app,
      transport,
      deserializationErrorHandler: ErrorHandlers.deadLetter(dlq),
      commitIntervalMs: 100,
    });
    await streams.start();
    try {
      await waitCaughtUp(transport, app, input);
    } finally {
      await streams.close();
    }
    expect(streams.state).toBe('NOT_RUNNING');

    const dead = await readAll(transport, dlq);
    expect(dead).toHaveLength(1);
    const [d] = dead;
    expect(d.value).toEqual(poison);
    expect(d.key!.toString()).toBe('k0');
    const header = (name: string) => d.headers[name]?.toString();
    expect(header('origin')).toBe('bad-producer');
    expect(header(DLQ_HEADERS.errorCode)).toBe('LF_ERR_SERDE_DESERIALIZE');
    expect(header(DLQ_HEADERS.errorKind)).toBe('deserialization');
    expect(header(DLQ_HEADERS.errorMessage)).toMatch(/magic byte/);
    expect(header(DLQ_HEADERS.sourceTopic)).toBe(input);
    expect(header(DLQ_HEADERS.sourcePartition)).toBe(String(acks[100].partition));
    expect(header(DLQ_HEADERS.sourceOffset)).toBe(String(acks[100].offset));

    const out = await readAll(transport, output);
    const ids = (await Promise.all(out.map((m) => avro.deserialize(output, m.value))))
      .map((v) => v.id)
      .sort((x, y) => x - y);
    expect(ids).toEqual(Array.from({ length: 200 }, (_, i) => i).filter((i) => i !== 100));
  });
});
