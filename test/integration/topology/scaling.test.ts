import { describe, expect, it, onTestFinished } from 'vitest';
import {
  Consumed,
  LogFlowStreams,
  LongSerde,
  type ProcessingGuarantee,
  Produced,
  Serdes,
  TopologyBuilder,
} from '../../../topology/index.ts';
import { KafkaTransport } from '../../../topology/transport/kafka-transport.ts';
import { waitFor } from '../../helpers/wait-for.ts';
import { applicationId, createTopic, kafkaTransport, readAll, waitCaughtUp } from './kafka-helpers.ts';

const KEYS = 24;

function instance(app: string, input: string, output: string, guarantee: ProcessingGuarantee, id: string) {
  const transport = new KafkaTransport({ clientId: `scaling-${id}` });
  const builder = new TopologyBuilder();
  builder
    .stream(input, Consumed.with(Serdes.String(), Serdes.String()))
    .groupByKey()
    .count()
    .toStream()
    .to(output, Produced.with(Serdes.String(), new LongSerde()));
  const streams = new LogFlowStreams(builder.build(), {
    applicationId: app,
    transport,
    processingGuarantee: guarantee,
    instanceId: id,
    commitIntervalMs: 100,
  });
  onTestFinished(async () => {
    await streams.close();
    await transport.close();
  });
  return streams;
}

async function produce(transport: KafkaTransport, topic: string, from: number, to: number): Promise<void> {
  const producer = transport.producer();
  await producer.connect();
  const messages = [];
  for (let i = from; i < to; i++)
    messages.push({ topic, key: Buffer.from(`k${i % KEYS}`), value: Buffer.from(String(i)) });
  await producer.send(messages);
  await producer.disconnect();
}

describe('two instances in one consumer group', () => {
  it('split the partitions, and keep their state when one leaves and the other takes over', async () => {
    const transport = kafkaTransport();
    const input = await createTopic(transport, 4);
    const output = await createTopic(transport, 4);
    const app = applicationId(transport, 'lf-test-scale');

    const a = instance(app, input, output, 'exactly_once', 'a');
    await a.start();
    await produce(transport, input, 0, 2400);
    await waitCaughtUp(transport, app, input);
    await waitFor(() => a.assignedTasks.length === 4, { what: 'a runs all 4 tasks' });

    const b = instance(app, input, output, 'exactly_once', 'b');
    await b.start();
    // (Until a has seen the rebalance, both may briefly list a moved task.)
    await waitFor(
      () =>
        a.assignedTasks.length > 0 &&
        b.assignedTasks.length > 0 &&
        [...a.assignedTasks, ...b.assignedTasks].sort().join() === '0_0,0_1,0_2,0_3',
      { what: 'tasks split between a and b', timeoutMs: 60_000 },
    );

    // Both work on new records, counting on from the state b restored for its partitions.
    await produce(transport, input, 2400, 4800);
    await waitCaughtUp(transport, app, input);

    // b leaves: its partitions (and their state) move back to a.
    await b.close();
    await waitFor(() => a.assignedTasks.length === 4, { what: 'a runs all tasks again', timeoutMs: 60_000 });
    await produce(transport, input, 4800, 7200);
    await waitCaughtUp(transport, app, input);

    const longs = new LongSerde();
    const latest = new Map<string, number>();
    const records = (await readAll(transport, output)).sort(
      (x, y) => x.partition - y.partition || x.offset - y.offset,
    );
    for (const m of records) latest.set(m.key!.toString(), longs.deserialize(output, m.value));
    expect(latest.size).toBe(KEYS);
    // Every key counted every one of its records exactly once across both moves.
    for (const [key, n] of latest) expect([key, n]).toEqual([key, 7200 / KEYS]);
  });

  it('count every record exactly once (exactly-once) when members join and leave while records flow', async () => {
    const transport = kafkaTransport();
    const input = await createTopic(transport, 4);
    const output = await createTopic(transport, 4);
    const app = applicationId(transport, 'lf-test-scale-flow');
    const a = instance(app, input, output, 'exactly_once', 'a');
    await a.start();

    // A producer keeps writing while b joins and later leaves.
    let produced = 0;
    let stop = false;
    const writer = (async () => {
      while (!stop && produced < 12_000) {
        await produce(transport, input, produced, produced + 300);
        produced += 300;
      }
    })();
    await waitFor(() => produced >= 2_400, { what: 'some records written' });
    const b = instance(app, input, output, 'exactly_once', 'b');
    await b.start();
    await waitFor(() => b.assignedTasks.length > 0 && produced >= 6_000, {
      what: 'b runs tasks while records flow',
      timeoutMs: 60_000,
    });
    await b.close();
    stop = produced >= 9_000;
    await writer;
    await waitCaughtUp(transport, app, input);

    const perKey = new Map<string, number>();
    for (let i = 0; i < produced; i++) perKey.set(`k${i % KEYS}`, (perKey.get(`k${i % KEYS}`) ?? 0) + 1);
    const longs = new LongSerde();
    const latest = new Map<string, number>();
    const records = (await readAll(transport, output)).sort(
      (x, y) => x.partition - y.partition || x.offset - y.offset,
    );
    for (const m of records) latest.set(m.key!.toString(), longs.deserialize(output, m.value));
    expect(Object.fromEntries([...latest].sort())).toEqual(Object.fromEntries([...perKey].sort()));
  });
});
