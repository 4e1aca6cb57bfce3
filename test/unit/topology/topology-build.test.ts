import { describe, expect, it } from 'vitest';
import type { LogFlowError } from '../../../common/errors.ts';
import {
  Consumed,
  Grouped,
  LongSerde,
  Materialized,
  Produced,
  Stores,
  TimeWindows,
  TopologyBuilder,
} from '../../../topology/index.ts';
import { Serdes } from '../../../topology/serdes/index.ts';

const S = Serdes.String();

function buildError(build: (b: TopologyBuilder) => void): LogFlowError {
  const b = new TopologyBuilder();
  build(b);
  try {
    b.build();
  } catch (err) {
    return err as LogFlowError;
  }
  throw new Error('build() did not fail');
}

describe('TopologyBuilder.build() validation', () => {
  it('reports every problem at once', () => {
    const err = buildError((b) => {
      const s = b.stream('no-serdes'); // missing key and value serde
      s.to('out'); // sink without serdes
      b.stream('in', Consumed.with(S, S)).process(() => ({ process() {} }), ['nope']); // unknown store
      b.stream('in', Consumed.with(S, S)); // topic read twice
      b.addStateStore(Stores.keyValueStore('dup', S, S));
      b.addStateStore(Stores.keyValueStore('dup', S, S)); // duplicate store
      b.stream('x', Consumed.with(S, S).withName('same')).mapValues((v) => v, 'same'); // duplicate node name
    });
    expect(err.code).toBe('LF_ERR_TOPOLOGY_INVALID');
    const details = err.details as string[];
    const expected = [
      /source .* \(no-serdes\): no key serde/,
      /source .* \(no-serdes\): no value serde/,
      /sink .* \(out\): no key serde/,
      /sink .* \(out\): no value serde/,
      /unknown state store "nope"/,
      /topic in is read by two sources/,
      /duplicate store name "dup"/,
      /duplicate processor name "same"/,
    ];
    for (const re of expected)
      expect(
        details.some((d) => re.test(d)),
        `${re} in ${details.join('; ')}`,
      ).toBe(true);
    expect(details).toHaveLength(expected.length);
    expect(err.message).toMatch(/8 problems/);
  });

  it('detects a cycle through topics', () => {
    const err = buildError((b) => {
      b.stream('a', Consumed.with(S, S)).to('b', Produced.with(S, S));
      b.stream('b', Consumed.with(S, S)).to('a', Produced.with(S, S));
    });
    expect(err.details).toEqual([expect.stringMatching(/cycle through topics: (a -> b -> a|b -> a -> b)/)]);
  });

  it('requires serdes for a repartition and for changelogs', () => {
    const err = buildError((b) => {
      b.stream('in', Consumed.with(S, S))
        .map((k, v) => [v.length, k] as [number, string])
        .groupByKey()
        .count(Materialized.as('c'));
    });
    const details = err.details as string[];
    expect(details.some((d) => /repartition before c: no key serde/.test(d))).toBe(true);
    expect(details.some((d) => /store c: its changelog needs a key serde/.test(d))).toBe(true);
  });

  it('accepts builder-level default serdes', () => {
    const b = new TopologyBuilder({ defaultKeySerde: S as never, defaultValueSerde: S as never });
    b.stream('in')
      .mapValues((v) => `${v}`)
      .to('out');
    expect(() => b.build()).not.toThrow();
  });
});

describe('describe()', () => {
  it('prints sub-topologies with sources, processors, stores and sinks like Kafka Streams', () => {
    const b = new TopologyBuilder();
    const parsed = b.stream('logs-raw', Consumed.with(S, S)).mapValues((v) => v.trim(), 'parse');
    parsed.to('logs-parsed', Produced.with(S, S));
    parsed
      .groupBy((_k, v) => v.split(' ')[0], Grouped.with(S, S).withName('by-service'))
      .windowedBy(TimeWindows.ofSizeAndGrace(60_000, 5_000))
      .count(Materialized.as('service-counts'))
      .toStream()
      .mapValues((n) => String(n))
      .to('logs-metrics', Produced.with(S as never, S));
    const text = b.build().describe().toString();
    expect(text).toBe(
      [
        'Topologies:',
        '   Sub-topology: 0',
        '    Source: KSTREAM-SOURCE-0000000000 (topics: [logs-raw])',
        '      --> parse',
        '    Processor: parse (stores: [])',
        '      --> KSTREAM-SINK-0000000001, KSTREAM-KEY-SELECT-0000000002',
        '      <-- KSTREAM-SOURCE-0000000000',
        '    Sink: KSTREAM-SINK-0000000001 (topic: logs-parsed)',
        '      <-- parse',
        '    Processor: KSTREAM-KEY-SELECT-0000000002 (stores: [])',
        '      --> by-service-repartition-sink',
        '      <-- parse',
        '    Sink: by-service-repartition-sink (topic: by-service-repartition)',
        '      <-- KSTREAM-KEY-SELECT-0000000002',
        '',
        '   Sub-topology: 1',
        '    Source: by-service-repartition-source (topics: [by-service-repartition])',
        '      --> KSTREAM-WINDOWED-COUNT-0000000003',
        '    Processor: KSTREAM-WINDOWED-COUNT-0000000003 (stores: [service-counts])',
        '      --> KSTREAM-MAPVALUES-0000000004',
        '      <-- by-service-repartition-source',
        '    Processor: KSTREAM-MAPVALUES-0000000004 (stores: [])',
        '      --> KSTREAM-SINK-0000000005',
        '      <-- KSTREAM-WINDOWED-COUNT-0000000003',
        '    Sink: KSTREAM-SINK-0000000005 (topic: logs-metrics)',
        '      <-- KSTREAM-MAPVALUES-0000000004',
        '',
        'Stores:',
        '   service-counts (window, window 60000ms, retention 65000ms, changelog: yes)',
      ].join('\n'),
    );
  });
});

describe('Materialized/LongSerde', () => {
  it('LongSerde writes 8-byte big-endian like Kafka', () => {
    const l = new LongSerde();
    expect(l.serialize('t', 258)!.toString('hex')).toBe('0000000000000102');
    expect(l.deserialize('t', Buffer.from('ffffffffffffffff', 'hex'))).toBe(-1);
  });
});
