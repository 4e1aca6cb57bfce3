import { afterEach, describe, expect, it } from 'vitest';
import {
  Consumed,
  EmitStrategy,
  LongSerde,
  Materialized,
  Produced,
  Suppressed,
  TimeWindows,
  TopologyBuilder,
  TopologyTestDriver,
  type Windowed,
  WindowedSerdes,
  type WindowStore,
} from '../../../topology/index.ts';
import { Serdes } from '../../../topology/serdes/index.ts';

const S = Serdes.String();
const L = new LongSerde();
let driver: TopologyTestDriver | undefined;
afterEach(() => driver?.close());

function countTopology(windows: TimeWindows, mode: 'update' | 'final' | 'suppress' = 'update') {
  const b = new TopologyBuilder();
  let windowed = b.stream('in', Consumed.with(S, S)).groupByKey().windowedBy(windows);
  if (mode === 'final') windowed = windowed.emitStrategy(EmitStrategy.onWindowClose());
  let table = windowed.count(Materialized.as('counts'));
  if (mode === 'suppress') table = table.suppress(Suppressed.untilWindowCloses());
  table.toStream().to('out', Produced.with(WindowedSerdes.timeWindowed(S, windows.sizeMs), L));
  return b.build();
}

function setup(
  windows: TimeWindows,
  mode: 'update' | 'final' | 'suppress' = 'update',
  lateRecordsTopic?: string,
) {
  driver = new TopologyTestDriver(countTopology(windows, mode), { lateRecordsTopic });
  const input = driver.createInputTopic('in', S, S);
  const output = driver.createOutputTopic('out', WindowedSerdes.timeWindowed(S, windows.sizeMs), L);
  const read = () =>
    output
      .readKeyValuesToList()
      .map(([k, v]) => `${(k as Windowed<string>).key}@[${k.window.start},${k.window.end})=${v}`);
  return { driver, input, read };
}

describe('windows', () => {
  it('tumbling windows have exact [start, end) boundaries', () => {
    const { input, read } = setup(TimeWindows.ofSizeAndGrace(1000, 0));
    input.pipeInput('a', 'x', 0);
    input.pipeInput('a', 'x', 999);
    input.pipeInput('a', 'x', 1000);
    input.pipeInput('b', 'x', 1999);
    expect(read()).toEqual(['a@[0,1000)=1', 'a@[0,1000)=2', 'a@[1000,2000)=1', 'b@[1000,2000)=1']);
  });

  it('accepts out-of-order records within the grace period and drops later ones as late', () => {
    const { driver, input, read } = setup(TimeWindows.ofSizeAndGrace(1000, 500));
    input.pipeInput('a', 'x', 1200); // stream time 1200
    input.pipeInput('a', 'x', 900); // [0,1000): end + grace = 1500 > 1200 → accepted
    input.pipeInput('b', 'x', 1500); // stream time 1500
    input.pipeInput('a', 'x', 999); // end + grace = 1500 <= 1500 → late
    expect(read()).toEqual(['a@[1000,2000)=1', 'a@[0,1000)=1', 'b@[1000,2000)=1']);
    const late = driver.metrics.lateRecords as unknown as { hashMap: Record<string, { value: number }> };
    expect(Object.values(late.hashMap).reduce((n, v) => n + v.value, 0)).toBe(1);
  });

  it('sends late records to the late topic with their original bytes when configured', () => {
    const { driver, input } = setup(TimeWindows.ofSizeAndGrace(1000, 0), 'update', 'late');
    input.pipeInput('a', 'on-time', 5000);
    input.pipeInput('a', 'too-late', 100);
    const late = driver.createOutputTopic('late', S, S).readRecordsToList();
    expect(late).toHaveLength(1);
    expect(late[0].value).toBe('too-late');
    expect(late[0].headers['logflow.error.message'].toString()).toMatch(/late record/);
  });

  it('hopping windows: one record counts in every overlapping window', () => {
    const { input, read } = setup(TimeWindows.ofSizeAndGrace(1000, 0).advanceBy(500));
    input.pipeInput('a', 'x', 700);
    input.pipeInput('a', 'x', 1200);
    expect(read()).toEqual(['a@[0,1000)=1', 'a@[500,1500)=1', 'a@[500,1500)=2', 'a@[1000,2000)=1']);
  });

  it('final-only emission: one result per window, when stream time passes end + grace', () => {
    const { input, read } = setup(TimeWindows.ofSizeAndGrace(1000, 200), 'final');
    input.pipeInput('a', 'x', 100);
    input.pipeInput('a', 'x', 200);
    input.pipeInput('b', 'x', 900);
    input.pipeInput('a', 'x', 1100); // stream time 1100 < 1000 + 200: nothing final yet
    expect(read()).toEqual([]);
    input.pipeInput('a', 'x', 1200); // 1200 >= 1200: window [0,1000) closes
    expect(read()).toEqual(['a@[0,1000)=2', 'b@[0,1000)=1']);
    input.pipeInput('c', 'x', 5000);
    expect(read()).toEqual(['a@[1000,2000)=2']);
  });

  it('suppress(untilWindowCloses) on the windowed table emits final results only', () => {
    const { input, read } = setup(TimeWindows.ofSizeAndGrace(1000, 0), 'suppress');
    input.pipeInput('a', 'x', 10);
    input.pipeInput('a', 'x', 20);
    expect(read()).toEqual([]);
    input.pipeInput('a', 'x', 1000);
    expect(read()).toEqual(['a@[0,1000)=2']);
  });

  it('keeps windows keyed by (key, start) in the store and expires them after retention', () => {
    const { driver, input } = setup(TimeWindows.ofSizeAndGrace(1000, 0));
    input.pipeInput('a', 'x', 10);
    input.pipeInput('b', 'x', 20);
    const store = driver.getWindowStore<string, number>('counts') as WindowStore<string, number>;
    expect(store.fetch('a', 0)).toBe(1);
    expect(store.fetch('b', 0)).toBe(1);
    input.pipeInput('a', 'x', 1500);
    expect(store.fetch('a', 0)).toBeUndefined(); // retention = size + grace: expired once closed
    expect(store.fetch('a', 1000)).toBe(1);
  });

  it('uses a timestamp extractor for event time', () => {
    const b = new TopologyBuilder();
    b.stream(
      'in',
      Consumed.with(S, Serdes.Json<{ ts: number }>()).withTimestampExtractor(
        (r) => (r.value as { ts: number }).ts,
      ),
    )
      .groupByKey()
      .windowedBy(TimeWindows.ofSizeAndGrace(100, 0))
      .count()
      .toStream()
      .to('out', Produced.with(WindowedSerdes.timeWindowed(S, 100), L));
    driver = new TopologyTestDriver(b.build());
    driver.createInputTopic('in', S, Serdes.Json<{ ts: number }>()).pipeInput('k', { ts: 250 }, 999_999);
    const [key] = driver.createOutputTopic('out', WindowedSerdes.timeWindowed(S, 100), L).readKeyValue();
    expect(key.window).toEqual({ start: 200, end: 300 });
  });

  it('windowed aggregate and reduce', () => {
    const b = new TopologyBuilder();
    const grouped = b.stream('in', Consumed.with(S, L)).groupByKey();
    grouped
      .windowedBy(TimeWindows.ofSizeAndGrace(100, 0))
      .aggregate(
        () => 0,
        (_k, v, sum) => sum + v,
        Materialized.as<string, number>('sums').withValueSerde(L),
      )
      .toStream()
      .to('sums', Produced.with(WindowedSerdes.timeWindowed(S, 100), L));
    grouped
      .windowedBy(TimeWindows.ofSizeAndGrace(100, 0))
      .reduce((a, v) => Math.max(a, v), Materialized.as('max'))
      .toStream()
      .to('max', Produced.with(WindowedSerdes.timeWindowed(S, 100), L));
    driver = new TopologyTestDriver(b.build());
    const input = driver.createInputTopic('in', S, L);
    input.pipeInput('k', 5, 10);
    input.pipeInput('k', 9, 20);
    input.pipeInput('k', 2, 30);
    expect(
      driver.createOutputTopic('sums', WindowedSerdes.timeWindowed(S, 100), L).readValuesToList(),
    ).toEqual([5, 14, 16]);
    expect(
      driver.createOutputTopic('max', WindowedSerdes.timeWindowed(S, 100), L).readValuesToList(),
    ).toEqual([5, 9, 9]);
  });

  it('rejects invalid window specs', () => {
    expect(() => TimeWindows.ofSizeAndGrace(0, 0)).toThrow(/size/);
    expect(() => TimeWindows.ofSizeAndGrace(10, -1)).toThrow(/grace/);
    expect(() => TimeWindows.ofSizeAndGrace(10, 0).advanceBy(11)).toThrow(/advance/);
  });
});
