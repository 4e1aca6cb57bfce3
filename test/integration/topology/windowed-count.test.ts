import { describe, expect, it } from 'vitest';
import {
  Consumed,
  LogFlowStreams,
  LongSerde,
  Produced,
  Serdes,
  TimeWindows,
  TopologyBuilder,
  WindowedSerdes,
} from '../../../topology/index.ts';
import { AvroSerde, loadSchema } from '../../../topology/serdes/index.ts';
import {
  createTopic,
  kafkaTransport,
  applicationId as newApplicationId,
  readAll,
  schemaRegistry,
  waitCaughtUp,
} from './kafka-helpers.ts';

const FIXTURES = new URL('../../unit/serdes/fixtures/', import.meta.url).pathname;
const WINDOW = 10_000;

interface TestEvent {
  id: number;
  message: string;
  level: string;
  tags: string[];
}

describe('a windowed count on the real broker', () => {
  it('equals a brute-force recount of the input, window by window', async () => {
    const transport = kafkaTransport();
    const input = await createTopic(transport, 3);
    const output = await createTopic(transport, 3);
    const applicationId = newApplicationId(transport, 'lf-test-wcount');
    const avro = new AvroSerde<TestEvent>({
      registry: schemaRegistry(),
      schema: loadSchema('test-event', FIXTURES),
    });

    // 3,000 records over 15 keys, event times 37 ms apart from a window boundary; every tenth record
    // is moved exactly onto the next window boundary (it belongs to the window starting there).
    const base = 1_700_000_000_000 - (1_700_000_000_000 % WINDOW);
    const records = Array.from({ length: 3000 }, (_, i) => ({
      key: `key-${i % 15}`,
      timestamp: base + i * 37 + (i % 10 === 0 ? WINDOW - ((base + i * 37) % WINDOW) : 0),
      value: { id: i, message: `m${i}`, level: 'INFO', tags: [] },
    }));
    const expected = new Map<string, number>();
    for (const r of records) {
      const start = r.timestamp - (r.timestamp % WINDOW);
      const k = `${r.key}@${start}`;
      expected.set(k, (expected.get(k) ?? 0) + 1);
    }

    const producer = transport.producer();
    await producer.connect();
    await producer.send(
      await Promise.all(
        records.map(async (r) => ({
          topic: input,
          key: Buffer.from(r.key),
          value: await avro.serialize(input, r.value),
          timestamp: r.timestamp,
        })),
      ),
    );
    await producer.disconnect();

    const builder = new TopologyBuilder();
    builder
      .stream(input, Consumed.with(Serdes.String(), avro))
      .groupByKey()
      .windowedBy(TimeWindows.ofSizeAndGrace(WINDOW, 3_600_000))
      .count()
      .toStream()
      .to(output, Produced.with(WindowedSerdes.timeWindowed(Serdes.String(), WINDOW), new LongSerde()));
    const streams = new LogFlowStreams(builder.build(), { applicationId, transport, commitIntervalMs: 200 });
    await streams.start();
    try {
      await waitCaughtUp(transport, applicationId, input);
    } finally {
      await streams.close();
    }

    // Emit-on-update: the last record per (key, window) in partition order is the final count.
    const keySerde = WindowedSerdes.timeWindowed(Serdes.String(), WINDOW);
    const longs = new LongSerde();
    const latest = new Map<string, number>();
    const out = (await readAll(transport, output)).sort(
      (a, b) => a.partition - b.partition || a.offset - b.offset,
    );
    for (const m of out) {
      const w = (await keySerde.deserialize(output, m.key)) as { key: string; window: { start: number } };
      latest.set(`${w.key}@${w.window.start}`, longs.deserialize(output, m.value));
    }
    expect(latest.size).toBe(expected.size);
    expect(Object.fromEntries([...latest].sort())).toEqual(Object.fromEntries([...expected].sort()));
  });
});
