import { afterEach, describe, expect, it } from 'vitest';
import { Consumed, Grouped, LongSerde, Produced, TopologyBuilder } from '../../../topology/index.ts';
import { Serdes } from '../../../topology/serdes/index.ts';
import { TopologyTestDriver } from '../../../topology/test-driver/topology-test-driver.ts';

const S = Serdes.String();
const J = Serdes.Json<Record<string, unknown>>();
let driver: TopologyTestDriver | undefined;
afterEach(() => driver?.close());

function run(build: (b: TopologyBuilder) => void) {
  const b = new TopologyBuilder();
  build(b);
  driver = new TopologyTestDriver(b.build());
  return driver;
}

describe('stateless operators', () => {
  it('mapValues, filter, filterNot, peek', () => {
    const peeked: string[] = [];
    const d = run((b) =>
      b
        .stream('in', Consumed.with(S, S))
        .mapValues((v) => v.toUpperCase())
        .filter((_k, v) => v !== 'SKIP')
        .filterNot((_k, v) => v === 'ALSO-SKIP')
        .peek((k) => peeked.push(k))
        .to('out', Produced.with(S, S)),
    );
    const input = d.createInputTopic('in', S, S);
    const output = d.createOutputTopic('out', S, S);
    input.pipeKeyValueList([
      ['a', 'x'],
      ['b', 'skip'],
      ['c', 'also-skip'],
      ['d', 'y'],
    ]);
    expect(output.readKeyValuesToList()).toEqual([
      ['a', 'X'],
      ['d', 'Y'],
    ]);
    expect(peeked).toEqual(['a', 'd']);
  });

  it('map, selectKey and flatMap change keys; flatMapValues keeps them', () => {
    const d = run((b) => {
      const s = b.stream('in', Consumed.with(S, S));
      s.map((k, v) => [v, k] as [string, string]).to('swapped', Produced.with(S, S));
      s.selectKey((_k, v) => `key-${v}`).to('rekeyed', Produced.with(S, S));
      s.flatMap((k, v) => v.split(',').map((part) => [`${k}.${part}`, part] as [string, string])).to(
        'flat',
        Produced.with(S, S),
      );
      s.flatMapValues((v) => v.split(',')).to('flatvalues', Produced.with(S, S));
    });
    d.createInputTopic('in', S, S).pipeInput('k', 'a,b', 5);
    expect(d.createOutputTopic('swapped', S, S).readKeyValuesToList()).toEqual([['a,b', 'k']]);
    expect(d.createOutputTopic('rekeyed', S, S).readKeyValuesToList()).toEqual([['key-a,b', 'a,b']]);
    expect(d.createOutputTopic('flat', S, S).readKeyValuesToList()).toEqual([
      ['k.a', 'a'],
      ['k.b', 'b'],
    ]);
    const fv = d.createOutputTopic('flatvalues', S, S).readRecordsToList();
    expect(fv.map((r) => [r.key, r.value, r.timestamp])).toEqual([
      ['k', 'a', 5],
      ['k', 'b', 5],
    ]);
  });

  it('branch sends each record to the first matching branch and drops unmatched ones', () => {
    const d = run((b) => {
      const [errors, warns] = b.stream('in', Consumed.with(S, S)).branch(
        (_k, v) => v.startsWith('ERROR'),
        (_k, v) => v.startsWith('WARN') || v.startsWith('ERROR'),
      );
      errors.to('errors', Produced.with(S, S));
      warns.to('warns', Produced.with(S, S));
    });
    d.createInputTopic('in', S, S).pipeKeyValueList([
      ['1', 'ERROR a'],
      ['2', 'WARN b'],
      ['3', 'INFO c'],
    ]);
    expect(d.createOutputTopic('errors', S, S).readValuesToList()).toEqual(['ERROR a']);
    expect(d.createOutputTopic('warns', S, S).readValuesToList()).toEqual(['WARN b']);
  });

  it('split gives named branches and a default branch', () => {
    const d = run((b) => {
      const branches = b
        .stream('in', Consumed.with(S, S))
        .split({ error: (_k, v) => v === 'error', warn: (_k, v) => v === 'warn' }, 'other');
      branches.error.to('e', Produced.with(S, S));
      branches.warn.to('w', Produced.with(S, S));
      branches.other.to('o', Produced.with(S, S));
    });
    d.createInputTopic('in', S, S).pipeKeyValueList([
      ['1', 'error'],
      ['2', 'info'],
      ['3', 'warn'],
      ['4', 'debug'],
    ]);
    expect(d.createOutputTopic('e', S, S).readKeyValuesToList()).toEqual([['1', 'error']]);
    expect(d.createOutputTopic('w', S, S).readKeyValuesToList()).toEqual([['3', 'warn']]);
    expect(d.createOutputTopic('o', S, S).readKeyValuesToList()).toEqual([
      ['2', 'info'],
      ['4', 'debug'],
    ]);
  });

  it('merge interleaves two streams; through writes and reads back', () => {
    const d = run((b) => {
      const a = b.stream('a', Consumed.with(S, S));
      const c = b.stream('c', Consumed.with(S, S));
      a.merge(c)
        .through('mid', Produced.with(S, S))
        .mapValues((v) => `${v}!`)
        .to('out', Produced.with(S, S));
    });
    d.createInputTopic('a', S, S).pipeInput('1', 'x');
    d.createInputTopic('c', S, S).pipeInput('2', 'y');
    expect(d.createOutputTopic('mid', S, S).readValuesToList()).toEqual(['x', 'y']);
    expect(d.createOutputTopic('out', S, S).readValuesToList()).toEqual(['x!', 'y!']);
  });

  it('to() with a per-record topic and headers passed through', () => {
    const d = run((b) =>
      b
        .stream('in', Consumed.with(S, J))
        .to((r) => `svc-${(r.value as { service: string }).service}`, Produced.with(S, J)),
    );
    d.createInputTopic('in', S, J).pipeInput('k', { service: 'api' }, 1, { trace: Buffer.from('t1') });
    const out = d.createOutputTopic('svc-api', S, J).readRecord();
    expect(out.value).toEqual({ service: 'api' });
    expect(out.headers.trace.toString()).toBe('t1');
  });

  it('selectKey then groupByKey repartitions through <app>-<name>-repartition', () => {
    const b = new TopologyBuilder();
    b.stream('in', Consumed.with(S, S))
      .selectKey((_k, v) => v)
      .groupByKey(Grouped.with(S, S).withName('by-value'))
      .count()
      .toStream()
      .to('counts', Produced.with(S, new LongSerde()));
    const topology = b.build();
    expect(topology.subtopologies).toHaveLength(2);
    expect([...topology.internalTopics]).toEqual(['by-value-repartition']);
    expect(topology.topicName('by-value-repartition', 'app')).toBe('app-by-value-repartition');
    driver = new TopologyTestDriver(topology, { applicationId: 'app' });
    driver.createInputTopic('in', S, S).pipeKeyValueList([
      ['1', 'x'],
      ['2', 'y'],
      ['3', 'x'],
    ]);
    expect(driver.createOutputTopic('app-by-value-repartition', S, S).readKeyValuesToList()).toEqual([
      ['x', 'x'],
      ['y', 'y'],
      ['x', 'x'],
    ]);
    expect(driver.createOutputTopic('counts', S, new LongSerde()).readKeyValuesToList()).toEqual([
      ['x', 1],
      ['y', 1],
      ['x', 2],
    ]);
  });
});
