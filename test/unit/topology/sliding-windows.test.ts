import { afterEach, describe, expect, it } from 'vitest';
import {
  Consumed,
  EmitStrategy,
  LogFlowStreams,
  LongSerde,
  Materialized,
  MemoryTransport,
  Produced,
  SlidingWindows,
  Suppressed,
  TopologyBuilder,
  TopologyTestDriver,
  type Windowed,
  WindowedSerdes,
  type WindowStore,
} from '../../../topology/index.ts';
import { Serdes } from '../../../topology/serdes/index.ts';
import type { IncomingMessage } from '../../../topology/transport/transport.ts';
import { waitFor } from '../../helpers/wait-for.ts';

const S = Serdes.String();
const L = new LongSerde();
const J = Serdes.Json<string[]>();
let driver: TopologyTestDriver | undefined;
afterEach(() => driver?.close());

type Mode = 'update' | 'final' | 'suppress';

/** Counts per key in sliding windows, written to `out` as `key@[start,end]=count`. */
function setup(windows: SlidingWindows, mode: Mode = 'update', lateRecordsTopic?: string) {
  const b = new TopologyBuilder();
  let windowed = b.stream('in', Consumed.with(S, S)).groupByKey().windowedBy(windows);
  if (mode === 'final') windowed = windowed.emitStrategy(EmitStrategy.onWindowClose());
  let table = windowed.count(Materialized.as('counts'));
  if (mode === 'suppress') table = table.suppress(Suppressed.untilWindowCloses());
  const keySerde = WindowedSerdes.slidingWindowed(S, windows.timeDifferenceMs);
  table.toStream().to('out', Produced.with(keySerde, L));
  driver = new TopologyTestDriver(b.build(), { lateRecordsTopic });
  const input = driver.createInputTopic('in', S, S);
  const output = driver.createOutputTopic('out', keySerde, L);
  const read = () =>
    output
      .readKeyValuesToList()
      .map(([k, v]) => `${(k as Windowed<string>).key}@[${k.window.start},${k.window.end}]=${v}`);
  return { driver, input, read };
}

/** The values of each window, collected into a list (an aggregator that mutates its argument). */
function collectTopology(windows: SlidingWindows, mode: Mode) {
  const b = new TopologyBuilder();
  let windowed = b.stream('in', Consumed.with(S, S)).groupByKey().windowedBy(windows);
  if (mode === 'final') windowed = windowed.emitStrategy(EmitStrategy.onWindowClose());
  windowed
    .aggregate<string[]>(
      () => [],
      (_k, v, list) => {
        list.push(v);
        return list;
      },
      Materialized.as<string, string[]>('lists').withValueSerde(J),
    )
    .toStream()
    .to('out', Produced.with(WindowedSerdes.slidingWindowed(S, windows.timeDifferenceMs), J));
  return b.build();
}

function lateCount(d: TopologyTestDriver): number {
  const late = d.metrics.lateRecords as unknown as { hashMap: Record<string, { value: number }> };
  return Object.values(late.hashMap).reduce((n, v) => n + v.value, 0);
}

describe('sliding windows', () => {
  it('makes the windows of the Kafka Streams example: one per record entering or leaving the span', () => {
    driver = new TopologyTestDriver(
      collectTopology(SlidingWindows.ofTimeDifferenceAndGrace(5000, 0), 'final'),
    );
    const input = driver.createInputTopic('in', S, S);
    input.pipeInput('A', '1', 8000);
    input.pipeInput('A', '2', 9200);
    input.pipeInput('A', '3', 12400);
    input.pipeInput('Z', 'close', 100_000);
    const out = driver
      .createOutputTopic('out', WindowedSerdes.slidingWindowed(S, 5000), J)
      .readKeyValuesToList()
      .filter(([k]) => k.key === 'A')
      .map(([k, v]) => `[${k.window.start};${k.window.end}]=${[...v].sort().join(',')}`);
    expect(out.sort()).toEqual(
      ['[3000;8000]=1', '[4200;9200]=1,2', '[7400;12400]=1,2,3', '[8001;13001]=2,3', '[9201;14201]=3'].sort(),
    );
  });

  it('records exactly timeDifference apart share a window; one millisecond more do not', () => {
    const { input, read } = setup(SlidingWindows.ofTimeDifferenceAndGrace(100, 1000));
    input.pipeInput('a', 'x', 1000);
    input.pipeInput('a', 'x', 1100); // [1000,1100] holds both
    input.pipeInput('b', 'x', 1000);
    input.pipeInput('b', 'x', 1101); // 101 ms apart: never together
    const out = read();
    expect(out).toContain('a@[1000,1100]=2');
    expect(out.filter((s) => s.startsWith('b@') && s.endsWith('=2'))).toEqual([]);
    expect(out).toContain('b@[1001,1101]=1');
    expect(out).toContain('b@[900,1000]=1');
  });

  it('records before timeDifference share the window [0, d]', () => {
    const { input, read } = setup(SlidingWindows.ofTimeDifferenceAndGrace(100, 0), 'final');
    input.pipeInput('a', 'x', 10);
    input.pipeInput('a', 'x', 50);
    input.pipeInput('a', 'x', 130);
    input.pipeInput('z', 'x', 10_000);
    expect(
      read()
        .filter((s) => s.startsWith('a@'))
        .sort(),
    ).toEqual(['a@[0,100]=2', 'a@[11,111]=1', 'a@[30,130]=2', 'a@[51,151]=1'].sort());
  });

  it('an out-of-order record within grace updates and creates the right windows', () => {
    const { input, read } = setup(SlidingWindows.ofTimeDifferenceAndGrace(100, 50));
    input.pipeInput('a', 'x', 1000);
    input.pipeInput('a', 'x', 1200); // stream time 1200
    expect(read()).toEqual(['a@[900,1000]=1', 'a@[1100,1200]=1']);
    input.pipeInput('a', 'x', 1150); // its left window ends at 1150, + grace 50 >= 1200: open
    expect(read().sort()).toEqual(['a@[1050,1150]=1', 'a@[1100,1200]=2', 'a@[1151,1251]=1'].sort());
  });

  it('drops and counts a record whose every window is closed, and routes it to the late topic', () => {
    const { driver, input, read } = setup(SlidingWindows.ofTimeDifferenceAndGrace(100, 50), 'update', 'late');
    input.pipeInput('a', 'x', 1000);
    input.pipeInput('b', 'x', 1500); // stream time 1500: windows ending before 1450 are closed
    read();
    input.pipeInput('a', 'too-late', 1349); // 1349 + 100 < 1450: no window could hold it
    expect(read()).toEqual([]);
    expect(lateCount(driver)).toBe(1);
    const late = driver.createOutputTopic('late', S, S).readRecordsToList();
    expect(late.map((r) => r.value)).toEqual(['too-late']);
    expect(late[0].headers['logflow.error.message'].toString()).toMatch(/late record/);
    input.pipeInput('a', 'x', 1350); // 1350 + 100 >= 1450: a later window may still hold it
    expect(lateCount(driver)).toBe(1);
  });

  it('a record late for its own window still counts in later windows that hold it', () => {
    const { input, read } = setup(SlidingWindows.ofTimeDifferenceAndGrace(100, 50), 'final');
    input.pipeInput('b', 'x', 1500); // close time 1450
    input.pipeInput('a', 'x', 1360); // its left window [1260,1360] is closed already
    input.pipeInput('a', 'x', 1455); // [1355,1455] holds both
    input.pipeInput('b', 'x', 5000);
    // (Kafka Streams would count 1 in [1355,1455]: it never stored the closed window [1260,1360].)
    expect(read().filter((s) => s.startsWith('a@'))).toEqual(['a@[1355,1455]=2', 'a@[1361,1461]=1']);
  });

  for (const mode of ['final', 'suppress'] as const) {
    it(`emit-final (${mode}) emits each window once, when stream time passes end + grace`, () => {
      const { input, read } = setup(SlidingWindows.ofTimeDifferenceAndGrace(100, 20), mode);
      input.pipeInput('a', 'x', 1000);
      input.pipeInput('a', 'x', 1050);
      input.pipeInput('a', 'x', 1120); // close time 1100: windows ending before it close
      expect(read()).toEqual(['a@[900,1000]=1', 'a@[950,1050]=2']);
      input.pipeInput('a', 'x', 1120); // same stream time: nothing closes
      expect(read()).toEqual([]);
      input.pipeInput('a', 'x', 1171); // close time 1151: [1051,1151] is not closed yet
      expect(read()).toEqual(['a@[1001,1101]=1', 'a@[1020,1120]=3']);
      input.pipeInput('z', 'x', 10_000);
      const rest = read();
      expect(rest.sort()).toEqual(['a@[1051,1151]=2', 'a@[1071,1171]=3', 'a@[1121,1221]=1'].sort());
      expect(new Set(rest).size).toBe(rest.length);
    });
  }

  it('reduce and aggregate over sliding windows; the store holds windows by (key, start)', () => {
    const b = new TopologyBuilder();
    const grouped = b.stream('in', Consumed.with(S, L)).groupByKey();
    const windows = SlidingWindows.ofTimeDifferenceWithNoGrace(100);
    grouped
      .windowedBy(windows)
      .reduce((a, v) => Math.max(a, v), Materialized.as('max'))
      .toStream()
      .to('max', Produced.with(WindowedSerdes.slidingWindowed(S, 100), L));
    driver = new TopologyTestDriver(b.build());
    const input = driver.createInputTopic('in', S, L);
    input.pipeInput('k', 9, 1000);
    input.pipeInput('k', 5, 1080);
    input.pipeInput('k', 2, 1150);
    const store = driver.getWindowStore<string, number>('max') as WindowStore<string, number>;
    expect(store.fetch('k', 1050)).toBe(5); // [1050,1150] holds 5 and 2
    expect(store.fetch('k', 980)).toBe(9); // [980,1080] holds 9 and 5
    expect(store.fetch('k', 1001)).toBe(5); // right window of 1000: 5 and 2
    expect(store.fetch('k', 1081)).toBe(2);
  });

  it('rejects invalid window specs', () => {
    expect(() => SlidingWindows.ofTimeDifferenceAndGrace(0, 0)).toThrow(/time difference/);
    expect(() => SlidingWindows.ofTimeDifferenceAndGrace(10, -1)).toThrow(/grace/);
    expect(() => SlidingWindows.ofTimeDifferenceAndGrace(1.5, 0)).toThrow(/time difference/);
  });
});

/** A small deterministic PRNG so a failing seed can be replayed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('sliding windows: brute force', () => {
  for (let seed = 1; seed <= 25; seed++) {
    it(`every final window holds exactly the records within it that arrived before it closed (seed ${seed})`, () => {
      const rand = prng(seed);
      const d = 1 + Math.floor(rand() * 60);
      const grace = Math.floor(rand() * 40);
      const windows = SlidingWindows.ofTimeDifferenceAndGrace(d, grace);
      driver = new TopologyTestDriver(collectTopology(windows, 'final'), { applicationId: `bf-${seed}` });
      const input = driver.createInputTopic('in', S, S);
      const output = driver.createOutputTopic('out', WindowedSerdes.slidingWindowed(S, d), J);
      const records: Array<{ key: string; t: number; id: string; arrival: number; accepted: boolean }> = [];
      let streamTime = Number.NEGATIVE_INFINITY;
      let clock = 0;
      for (let i = 0; i < 150; i++) {
        clock += Math.floor(rand() * 8);
        // Mostly in order, some records up to ~2d + grace behind.
        const t = Math.max(0, rand() < 0.3 ? clock - Math.floor(rand() * (2 * d + grace + 5)) : clock);
        const key = `k${Math.floor(rand() * 3)}`;
        streamTime = Math.max(streamTime, t);
        const accepted = t + d >= streamTime - grace;
        records.push({ key, t, id: `r${i}`, arrival: streamTime, accepted });
        input.pipeInput(key, `r${i}`, t);
      }
      input.pipeInput('closer', 'end', clock + 10 * (d + grace) + 1000);
      const late = records.filter((r) => !r.accepted).length;
      expect(lateCount(driver)).toBe(late);

      const seen = new Set<string>();
      const emitted = output.readKeyValuesToList().filter(([k]) => k.key !== 'closer');
      expect(emitted.length).toBeGreaterThan(0);
      for (const [k, ids] of emitted) {
        const { start, end } = k.window;
        const label = `${k.key}@[${start},${end}] d=${d} grace=${grace}`;
        expect(end - start).toBe(d);
        expect(seen.has(label), `${label} emitted twice`).toBe(false);
        seen.add(label);
        const expected = records
          .filter(
            (r) => r.key === k.key && r.accepted && r.t >= start && r.t <= end && r.arrival - grace <= end,
          )
          .map((r) => r.id);
        expect([...ids].sort(), label).toEqual(expected.sort());
        expect(ids.length, `${label} is empty`).toBeGreaterThan(0);
      }
      // Every accepted record whose own left window was open when it arrived has that window.
      for (const r of records) {
        if (!r.accepted || r.t + 0 < r.arrival - grace) continue;
        const start = r.t < d ? 0 : r.t - d;
        expect(seen.has(`${r.key}@[${start},${start + d}] d=${d} grace=${grace}`), `${r.id}@${r.t}`).toBe(
          true,
        );
      }
      driver.close();
    });
  }
});

async function readAll(transport: MemoryTransport, topic: string): Promise<IncomingMessage[]> {
  const out: IncomingMessage[] = [];
  for await (const chunk of transport.readPartition(topic, 0)) out.push(...chunk);
  return out;
}

describe('sliding windows on the runtime', () => {
  it('restores aggregates and window timestamps from their changelogs on another instance', async () => {
    const build = () => {
      const b = new TopologyBuilder();
      b.stream('in', Consumed.with(S, S))
        .groupByKey()
        .windowedBy(SlidingWindows.ofTimeDifferenceAndGrace(100, 1000))
        .count(Materialized.as('sliding'))
        .toStream()
        .to('out', Produced.with(WindowedSerdes.slidingWindowed(S, 100), L));
      return b.build();
    };
    const cluster = new MemoryTransport();
    await cluster.ensureTopics([
      { name: 'in', partitions: 1 },
      { name: 'out', partitions: 1 },
    ]);
    const send = (t: number) =>
      cluster
        .producer()
        .send([{ topic: 'in', key: Buffer.from('a'), value: Buffer.from('x'), timestamp: t }]);
    const first = new LogFlowStreams(build(), {
      applicationId: 'slide',
      transport: cluster.connection(),
      commitIntervalMs: 10,
    });
    await first.start();
    await send(1000);
    await send(1050);
    await waitFor(async () => (await cluster.committedOffsets('slide', 'in'))[0].offset === 2);
    await first.close();

    const second = new LogFlowStreams(build(), {
      applicationId: 'slide',
      transport: cluster.connection(),
      commitIntervalMs: 10,
    });
    await second.start();
    try {
      // [1020,1120] is derived from [950,1050] (two records, the latest at 1050): that needs both
      // the restored aggregate and the restored latest-record time.
      await send(1120);
      await waitFor(async () => (await cluster.committedOffsets('slide', 'in'))[0].offset === 3);
      const serde = WindowedSerdes.slidingWindowed(S, 100);
      const last = new Map<number, number>();
      await waitFor(async () => {
        for (const m of await readAll(cluster, 'out')) {
          const k = serde.deserialize('out', m.key) as Windowed<string>;
          last.set(k.window.start, L.deserialize('out', m.value));
        }
        return last.has(1020);
      });
      expect(last.get(1020)).toBe(2); // 1050 and 1120 (1 without the restored state)
      expect(last.get(1001)).toBe(1); // right window of 1000: 1050 only
      expect(last.get(1051)).toBe(1);
      const restored = await second.registry.getSingleMetricAsString('logflow_state_restore_records_total');
      expect(restored).toMatch(/store="sliding-timestamps"\} [1-9]/);
    } finally {
      await second.close();
    }
  });
});
