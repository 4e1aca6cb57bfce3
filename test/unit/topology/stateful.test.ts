import { afterEach, describe, expect, it } from 'vitest';
import {
  Consumed,
  Grouped,
  type KeyValueStore,
  LogFlowStreams,
  LongSerde,
  Materialized,
  MemoryTransport,
  type Processor,
  type ProcessorContext,
  Produced,
  Stores,
  TopologyBuilder,
  TopologyTestDriver,
  type WindowStore,
} from '../../../topology/index.ts';
import { Serdes } from '../../../topology/serdes/index.ts';
import { waitFor } from '../../helpers/wait-for.ts';

const S = Serdes.String();
const L = new LongSerde();
let driver: TopologyTestDriver | undefined;
afterEach(() => driver?.close());

describe('key-value aggregations', () => {
  it('count, reduce and aggregate keep a running value per key in a store', () => {
    const b = new TopologyBuilder();
    const grouped = b.stream('in', Consumed.with(S, L)).groupByKey();
    grouped.count(Materialized.as('count')).toStream().to('count', Produced.with(S, L));
    grouped
      .reduce((a, v) => a + v, Materialized.as('sum'))
      .toStream()
      .to('sum', Produced.with(S, L));
    grouped
      .aggregate(
        () => '',
        (_k, v, acc) => acc + String(v),
        Materialized.as<string, string>('concat').withValueSerde(S),
      )
      .toStream()
      .to('concat', Produced.with(S, S));
    driver = new TopologyTestDriver(b.build());
    const input = driver.createInputTopic('in', S, L);
    input.pipeKeyValueList([
      ['a', 1],
      ['b', 5],
      ['a', 2],
    ]);
    expect(driver.createOutputTopic('count', S, L).readKeyValuesToList()).toEqual([
      ['a', 1],
      ['b', 1],
      ['a', 2],
    ]);
    expect(driver.createOutputTopic('sum', S, L).readKeyValuesToMap()).toEqual(
      new Map([
        ['a', 3],
        ['b', 5],
      ]),
    );
    expect(driver.createOutputTopic('concat', S, S).readKeyValuesToMap().get('a')).toBe('12');
    expect(driver.getKeyValueStore<string, number>('count')!.get('a')).toBe(2);
    // The changelog carries the latest value per key, partitioned like the task.
    const changelog = driver.createOutputTopic('test-app-count-changelog', S, L).readKeyValuesToList();
    expect(changelog.at(-1)).toEqual(['a', 2]);
  });

  it('drops records with a null key from aggregations', () => {
    const b = new TopologyBuilder();
    b.stream('in', Consumed.with(S, S)).groupByKey().count().toStream().to('out', Produced.with(S, L));
    driver = new TopologyTestDriver(b.build());
    driver.createInputTopic('in', S, S).pipeValue('no key');
    expect(driver.createOutputTopic('out', S, L).isEmpty()).toBe(true);
  });
});

describe('the Processor API', () => {
  class Deduplicate implements Processor<string, string> {
    private ctx!: ProcessorContext<string, string>;
    private seen!: KeyValueStore<string, number>;
    init(ctx: ProcessorContext<string, string>) {
      this.ctx = ctx;
      this.seen = ctx.getStateStore('seen');
      ctx.schedule(1000, 'stream-time', (t) =>
        this.ctx.forward({
          key: 'tick',
          value: `stream@${t}`,
          timestamp: t,
          headers: {},
          topic: '',
          partition: 0,
          offset: -1,
        }),
      );
      ctx.schedule(5000, 'wall-clock', (t) =>
        this.ctx.forward({
          key: 'tick',
          value: `wall@${t}`,
          timestamp: t,
          headers: {},
          topic: '',
          partition: 0,
          offset: -1,
        }),
      );
    }
    process(record: Parameters<Processor<string, string>['process']>[0]) {
      if (this.seen.get(record.value) !== undefined) return;
      this.seen.put(record.value, record.timestamp);
      this.ctx.forward(record);
    }
  }

  function setup() {
    const b = new TopologyBuilder();
    b.addStateStore(Stores.keyValueStore('seen', S, L));
    b.stream('in', Consumed.with(S, S))
      .process(() => new Deduplicate(), ['seen'], 'dedupe')
      .to('out', Produced.with(S, S));
    driver = new TopologyTestDriver(b.build());
    return { input: driver.createInputTopic('in', S, S), output: driver.createOutputTopic('out', S, S) };
  }

  it('reads and writes its own store', () => {
    const { input, output } = setup();
    input.pipeInput('1', 'x', 10);
    input.pipeInput('2', 'x', 20);
    input.pipeInput('3', 'y', 30);
    expect(output.readValuesToList()).toEqual(['x', 'y']);
    expect(driver!.getKeyValueStore<string, number>('seen')!.get('x')).toBe(10);
  });

  it('fires stream-time punctuators as stream time advances and wall-clock ones on virtual time', () => {
    const { input, output } = setup();
    input.pipeInput('1', 'a', 100); // first record: next stream-time punctuation at 1100
    input.pipeInput('2', 'b', 1099);
    expect(output.readValuesToList()).toEqual(['a', 'b']);
    input.pipeInput('3', 'c', 1100);
    expect(output.readValuesToList()).toEqual(['c', 'stream@1100']);
    input.pipeInput('4', 'd', 3500); // one punctuation however far time jumps
    expect(output.readValuesToList()).toEqual(['d', 'stream@3500']);
    driver!.advanceWallClockTime(4999);
    expect(output.isEmpty()).toBe(true);
    driver!.advanceWallClockTime(1);
    expect(output.readValuesToList()).toEqual(['wall@5000']);
  });

  it('cannot reach a store it did not declare', () => {
    const b = new TopologyBuilder();
    b.addStateStore(Stores.keyValueStore('other', S, S));
    const errors: string[] = [];
    b.stream('in', Consumed.with(S, S))
      .process<string, string>(
        () => ({
          init(ctx) {
            ctx.getStateStore('other');
          },
          process() {},
        }),
        [],
      )
      .to('out', Produced.with(S, S));
    b.stream('x', Consumed.with(S, S)).process(() => ({ process() {} }), ['other']);
    driver = new TopologyTestDriver(b.build(), {
      processingErrorHandler: (ctx) => {
        errors.push(String((ctx.error as Error).message));
        return 'continue';
      },
    });
    expect(errors).toEqual([expect.stringMatching(/did not declare store "other"/)]);
  });
});

describe('wall-clock punctuation through a repartition', () => {
  it('records a wall-clock punctuator forwards into selectKey/groupByKey reach the downstream count', () => {
    const b = new TopologyBuilder();
    b.stream('in', Consumed.with(S, S))
      .process<string, string>(() => {
        const pending: string[] = [];
        let ctx: ProcessorContext<string, string>;
        return {
          init(c) {
            ctx = c;
            // Emits what it buffered only on wall-clock time, never per record.
            ctx.schedule(1000, 'wall-clock', (t) => {
              for (const value of pending.splice(0)) {
                ctx.forward({
                  key: 'buffered',
                  value,
                  timestamp: t,
                  headers: {},
                  topic: '',
                  partition: 0,
                  offset: -1,
                });
              }
            });
          },
          process(record) {
            pending.push(record.value);
          },
        };
      })
      .selectKey((_k, v) => v)
      .groupByKey(Grouped.with(S, S).withName('by-value'))
      .count()
      .toStream()
      .to('counts', Produced.with(S, L));
    driver = new TopologyTestDriver(b.build(), { applicationId: 'app' });
    driver.createInputTopic('in', S, S).pipeKeyValueList([
      ['1', 'x'],
      ['2', 'y'],
      ['3', 'x'],
    ]);
    const counts = driver.createOutputTopic('counts', S, L);
    expect(counts.isEmpty()).toBe(true);
    driver.advanceWallClockTime(1000);
    expect(driver.createOutputTopic('app-by-value-repartition', S, S).readValuesToList()).toEqual([
      'x',
      'y',
      'x',
    ]);
    expect(counts.readKeyValuesToList()).toEqual([
      ['x', 1],
      ['y', 1],
      ['x', 2],
    ]);
  });
});

describe('processor stores on the runtime', () => {
  it('a processor’s window and key-value stores are restored from their changelogs on another instance', async () => {
    const build = () => {
      const b = new TopologyBuilder();
      b.addStateStore(Stores.keyValueStore('last', S, S));
      b.addStateStore(Stores.windowStore('per-second', { windowSizeMs: 1000, retentionMs: 60_000 }, S, L));
      b.stream('in', Consumed.with(S, S)).process<string, string>(() => {
        let last: KeyValueStore<string, string>;
        let perSecond: WindowStore<string, number>;
        return {
          init(ctx) {
            last = ctx.getStateStore('last');
            perSecond = ctx.getStateStore('per-second');
          },
          process(r) {
            last.put(r.key, r.value);
            const start = Math.floor(r.timestamp / 1000) * 1000;
            perSecond.put(r.key, start, (perSecond.fetch(r.key, start) ?? 0) + 1);
          },
        };
      }, ['last', 'per-second']);
      return b.build();
    };
    const cluster = new MemoryTransport();
    await cluster.ensureTopics([{ name: 'in', partitions: 1 }]);
    const first = new LogFlowStreams(build(), {
      applicationId: 'proc',
      transport: cluster.connection(),
      commitIntervalMs: 10,
    });
    await first.start();
    await cluster.producer().send([
      { topic: 'in', key: Buffer.from('a'), value: Buffer.from('1'), timestamp: 100 },
      { topic: 'in', key: Buffer.from('a'), value: Buffer.from('2'), timestamp: 900 },
      { topic: 'in', key: Buffer.from('b'), value: Buffer.from('3'), timestamp: 1500 },
    ]);
    await waitFor(async () => (await cluster.committedOffsets('proc', 'in'))[0].offset === 3);
    await first.close();
    const second = new LogFlowStreams(build(), { applicationId: 'proc', transport: cluster.connection() });
    await second.start();
    try {
      expect(second.store<KeyValueStore<string, string>>('last', 0)!.get('a')).toBe('2');
      const windows = second.store<WindowStore<string, number>>('per-second', 0)!;
      expect(windows.fetch('a', 0)).toBe(2);
      expect(windows.fetch('b', 1000)).toBe(1);
      const restored = await second.registry.getSingleMetricAsString('logflow_state_restore_records_total');
      expect(restored).toMatch(/store="per-second"\} [1-9]/);
    } finally {
      await second.close();
    }
  });
});
