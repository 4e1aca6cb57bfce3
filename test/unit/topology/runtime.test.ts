import { afterEach, describe, expect, it } from 'vitest';
import {
  Consumed,
  LogFlowStreams,
  LongSerde,
  Materialized,
  MemoryTransport,
  type ProcessingGuarantee,
  Produced,
  TimeWindows,
  TopologyBuilder,
  WindowedSerdes,
} from '../../../topology/index.ts';
import { Serdes } from '../../../topology/serdes/index.ts';
import type { IncomingMessage } from '../../../topology/transport/transport.ts';
import { waitFor } from '../../helpers/wait-for.ts';

const S = Serdes.String();
const L = new LongSerde();
const running: LogFlowStreams[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.close()));
});

async function readAll(transport: MemoryTransport, topic: string): Promise<IncomingMessage[]> {
  const out: IncomingMessage[] = [];
  const n = await transport.partitionCount(topic);
  for (let p = 0; p < n; p++) for await (const chunk of transport.readPartition(topic, p)) out.push(...chunk);
  return out;
}

async function total(offsets: Promise<Array<{ offset: number }>>): Promise<number> {
  return (await offsets).reduce((n, o) => n + Math.max(0, o.offset), 0);
}

function start(
  topology: ReturnType<TopologyBuilder['build']>,
  transport: MemoryTransport,
  guarantee: ProcessingGuarantee = 'at_least_once',
) {
  const streams = new LogFlowStreams(topology, {
    applicationId: 'app',
    transport,
    processingGuarantee: guarantee,
    commitIntervalMs: 20,
    maxBatchSize: 50,
  });
  running.push(streams);
  return streams;
}

const SIZE = 1000;
function windowedCount(onRecord: (value: string) => void = () => {}) {
  const b = new TopologyBuilder();
  b.stream('events', Consumed.with(S, S))
    .peek((_k, v) => onRecord(v))
    .groupByKey()
    .windowedBy(TimeWindows.ofSizeAndGrace(SIZE, 0))
    .count(Materialized.as('counts'))
    .toStream()
    .to('counts-out', Produced.with(WindowedSerdes.timeWindowed(S, SIZE), L));
  return b.build();
}

function events(n: number, offset = 0) {
  // Keys spread over partitions, timestamps increasing so windows close as stream time moves.
  return Array.from({ length: n }, (_, i) => {
    const j = i + offset;
    return {
      topic: 'events',
      key: Buffer.from(`svc-${j % 7}`),
      value: Buffer.from(`e${j}`),
      timestamp: j * 10,
    };
  });
}

function bruteForce(n: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (const e of events(n)) {
    const k = `${e.key}@${Math.floor(e.timestamp / SIZE) * SIZE}`;
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return counts;
}

describe('LogFlowStreams on the memory transport', () => {
  it('at-least-once passthrough: every record out, offsets committed after acks', async () => {
    const transport = new MemoryTransport();
    await transport.ensureTopics([
      { name: 'in', partitions: 3 },
      { name: 'out', partitions: 3 },
    ]);
    const b = new TopologyBuilder();
    b.stream('in', Consumed.with(S, S))
      .mapValues((v) => v.toUpperCase())
      .to('out', Produced.with(S, S));
    const streams = start(b.build(), transport);
    await streams.start();
    await transport.producer().send(
      Array.from({ length: 500 }, (_, i) => ({
        topic: 'in',
        key: Buffer.from(`k${i}`),
        value: Buffer.from(`v${i}`),
      })),
    );
    await waitFor(async () => (await total(transport.endOffsets('out'))) === 500);
    await waitFor(async () => (await total(transport.committedOffsets('app', 'in'))) === 500);
    const out = await readAll(transport, 'out');
    expect(new Set(out.map((m) => m.value!.toString()))).toEqual(
      new Set(Array.from({ length: 500 }, (_, i) => `V${i}`)),
    );
    // Keys keep their partition (murmur2 on both sides).
    await streams.close();
    expect(streams.state).toBe('NOT_RUNNING');
    await streams.close();
  });

  for (const guarantee of ['at_least_once', 'exactly_once'] as const) {
    it(`${guarantee}: a windowed count restored after a crash loses nothing (exactly-once: equals a brute-force recount)`, async () => {
      const cluster = new MemoryTransport();
      await cluster.ensureTopics([{ name: 'events', partitions: 3 }]);
      const producer = cluster.producer();
      await producer.send(events(600));

      const first = cluster.connection();
      let committedAtCrash = -1;
      // Crash mid-batch: the instance dies (kill -9) while processing record e800.
      const a = start(
        windowedCount((v) => {
          if (v !== 'e800') return;
          first.kill();
          void total(cluster.committedOffsets('app', 'events')).then((n) => {
            committedAtCrash = n;
          });
        }),
        first,
        guarantee,
      );
      await a.start();
      await waitFor(async () => (await total(cluster.committedOffsets('app', 'events'))) === 600);
      await producer.send(events(400, 600));
      await waitFor(() => committedAtCrash >= 0);
      // The crash really left work uncommitted (redone by the next instance).
      expect(committedAtCrash).toBeLessThan(1000);

      const b = start(windowedCount(), cluster.connection(), guarantee);
      await b.start();
      await waitFor(async () => (await total(cluster.committedOffsets('app', 'events'))) === 1000);
      const expected = bruteForce(1000);
      const restoredState = new Map<string, number>();
      for (let p = 0; p < 3; p++) {
        const store = b.store<{ all(): Iterable<{ key: string; windowStart: number; value: number }> }>(
          'counts',
          p,
        );
        for (const e of store?.all() ?? []) restoredState.set(`${e.key}@${e.windowStart}`, e.value);
      }
      // Windows expire after size + grace; compare the ones still held.
      expect(restoredState.size).toBeGreaterThan(0);
      for (const [k, v] of restoredState) {
        // At-least-once may replay what the crash left uncommitted (never lose); exactly-once is exact.
        if (guarantee === 'exactly_once') expect(v, k).toBe(expected.get(k));
        else expect(v, k).toBeGreaterThanOrEqual(expected.get(k)!);
      }
      // The emitted updates: the last value per window equals the recount, for every window.
      const latest = new Map<string, number>();
      const serde = WindowedSerdes.timeWindowed(S, SIZE);
      for (const m of await readAll(cluster, 'counts-out')) {
        const w = serde.deserialize('counts-out', m.key) as { key: string; window: { start: number } };
        latest.set(`${w.key}@${w.window.start}`, L.deserialize('x', m.value));
      }
      expect([...latest.keys()].sort()).toEqual([...expected.keys()].sort());
      if (guarantee === 'exactly_once') expect(latest).toEqual(expected);
      else for (const [k, v] of latest) expect(v, k).toBeGreaterThanOrEqual(expected.get(k)!);
    });
  }

  it('two instances split the partitions and the survivor takes over with state intact', async () => {
    const cluster = new MemoryTransport();
    await cluster.ensureTopics([{ name: 'events', partitions: 4 }]);
    const producer = cluster.producer();
    const a = start(windowedCount(), cluster.connection());
    const b = start(windowedCount(), cluster.connection());
    await a.start();
    await b.start();
    expect(a.assignedTasks.length + b.assignedTasks.length).toBe(4);
    expect(a.assignedTasks.length).toBe(2);
    await producer.send(events(500));
    await waitFor(async () => (await total(cluster.committedOffsets('app', 'events'))) === 500);
    await b.close();
    expect(a.assignedTasks).toEqual(['0_0', '0_1', '0_2', '0_3']);
    await producer.send(events(300, 500));
    await waitFor(async () => (await total(cluster.committedOffsets('app', 'events'))) === 800);
    const expected = bruteForce(800);
    const latest = new Map<string, number>();
    const serde = WindowedSerdes.timeWindowed(S, SIZE);
    for (const m of await readAll(cluster, 'counts-out')) {
      const w = serde.deserialize('counts-out', m.key) as { key: string; window: { start: number } };
      latest.set(`${w.key}@${w.window.start}`, L.deserialize('x', m.value));
    }
    expect(latest).toEqual(expected);
  });

  it('a joining instance takes over partitions with their state restored', async () => {
    const cluster = new MemoryTransport();
    await cluster.ensureTopics([{ name: 'events', partitions: 4 }]);
    const producer = cluster.producer();
    const a = start(windowedCount(), cluster.connection());
    await a.start();
    await producer.send(events(500));
    await waitFor(async () => (await total(cluster.committedOffsets('app', 'events'))) === 500);
    const b = start(windowedCount(), cluster.connection());
    await b.start();
    expect(a.assignedTasks).toEqual(['0_0', '0_1']);
    expect(b.assignedTasks).toEqual(['0_2', '0_3']);
    await producer.send(events(500, 500));
    await waitFor(async () => (await total(cluster.committedOffsets('app', 'events'))) === 1000);
    const expected = bruteForce(1000);
    const latest = new Map<string, number>();
    const serde = WindowedSerdes.timeWindowed(S, SIZE);
    for (const m of await readAll(cluster, 'counts-out')) {
      const w = serde.deserialize('counts-out', m.key) as { key: string; window: { start: number } };
      latest.set(`${w.key}@${w.window.start}`, L.deserialize('x', m.value));
    }
    expect(latest).toEqual(expected);
  });
});
