import { afterEach, describe, expect, it } from 'vitest';
import {
  Consumed,
  Grouped,
  type KeyValueStore,
  LogFlowStreams,
  Materialized,
  MemoryTransport,
  Produced,
  TimeWindows,
  TopologyBuilder,
  TopologyTestDriver,
} from '../../../topology/index.ts';
import { Serdes } from '../../../topology/serdes/index.ts';
import type { IncomingMessage } from '../../../topology/transport/transport.ts';
import { waitFor } from '../../helpers/wait-for.ts';

const S = Serdes.String();
let driver: TopologyTestDriver | undefined;
afterEach(() => driver?.close());

/** clicks (user → page) joined with users (user → name), inner to `joined`, left to `left-joined`. */
function enrich() {
  const b = new TopologyBuilder();
  const users = b.table('users', Consumed.with(S, S), Materialized.as('users-store'));
  const clicks = b.stream('clicks', Consumed.with(S, S));
  clicks.join(users, (page, name) => `${name}:${page}`).to('joined', Produced.with(S, S));
  clicks
    .leftJoin(users, (page, name, user) => `${name ?? `?${user}`}:${page}`)
    .to('left-joined', Produced.with(S, S));
  users.toStream().to('user-updates', Produced.with(S, S));
  return b;
}

describe('KStream–KTable join', () => {
  it('joins each stream record with the table’s current value for its key', () => {
    driver = new TopologyTestDriver(enrich().build());
    const users = driver.createInputTopic('users', S, S);
    const clicks = driver.createInputTopic('clicks', S, S);
    const joined = driver.createOutputTopic('joined', S, S);
    const left = driver.createOutputTopic('left-joined', S, S);

    users.pipeInput('u1', 'Alice', 1);
    clicks.pipeInput('u1', '/home', 2);
    clicks.pipeInput('u2', '/about', 3); // not in the table
    expect(joined.readKeyValuesToList()).toEqual([['u1', 'Alice:/home']]);
    expect(left.readKeyValuesToList()).toEqual([
      ['u1', 'Alice:/home'],
      ['u2', '?u2:/about'],
    ]);

    users.pipeInput('u1', 'Alicia', 4); // a table update emits no join result...
    expect(joined.readKeyValuesToList()).toEqual([]);
    clicks.pipeInput('u1', '/search', 5); // ...later stream records see it
    expect(joined.readValuesToList()).toEqual(['Alicia:/search']);

    users.pipeInput('u1', null as unknown as string, 6); // tombstone: the key leaves the table
    clicks.pipeInput('u1', '/bye', 7);
    expect(joined.readValuesToList()).toEqual([]);
    expect(left.readValuesToList()).toEqual(['Alicia:/search', '?u1:/bye']);
    expect(driver.getKeyValueStore<string, string>('users-store')!.get('u1')).toBeUndefined();
    expect(driver.createOutputTopic('user-updates', S, S).readValuesToList()).toEqual([
      'Alice',
      'Alicia',
      null,
    ]);
  });

  it('puts the stream and the table in one sub-topology and logs the table to a changelog', () => {
    driver = new TopologyTestDriver(enrich().build(), { applicationId: 'enrich' });
    const sub = driver.topology.subtopologies.find((s) => s.sourceTopics.includes('clicks'))!;
    expect(sub.sourceTopics.sort()).toEqual(['clicks', 'users']);
    expect(sub.stores).toEqual(['users-store']);
    driver.createInputTopic('users', S, S).pipeInput('u1', 'Alice', 1);
    expect(driver.createOutputTopic('enrich-users-store-changelog', S, S).readKeyValuesToList()).toEqual([
      ['u1', 'Alice'],
    ]);
  });

  it('rejects a join after a key change and a join with a windowed table at build time', () => {
    const b = new TopologyBuilder();
    const users = b.table('users', Consumed.with(S, S));
    b.stream('clicks', Consumed.with(S, S))
      .selectKey((_k, v) => v)
      .join(users, (a, c) => a + c)
      .to('out', Produced.with(S, S));
    expect(() => b.build()).toThrow(/not co-partitioned with the table/);

    const b2 = new TopologyBuilder();
    const windowed = b2
      .stream('a', Consumed.with(S, S))
      .groupByKey()
      .windowedBy(TimeWindows.ofSizeAndGrace(100, 0))
      .count();
    b2.stream('b', Consumed.with(S, S))
      .join(windowed as never, (x: string, y: number) => `${x}${y}`)
      .to('out', Produced.with(S, S));
    expect(() => b2.build()).toThrow(/only a key-value table can be joined/);
  });

  it('a repartitioned stream can be joined', () => {
    const b = new TopologyBuilder();
    const users = b.table('users', Consumed.with(S, S));
    b.stream('clicks', Consumed.with(S, S))
      .selectKey((_k, v) => v)
      .repartition(Grouped.with(S, S))
      .join(users, (page, name) => `${name}:${page}`)
      .to('out', Produced.with(S, S));
    driver = new TopologyTestDriver(b.build());
    driver.createInputTopic('users', S, S).pipeInput('u9', 'Zoe', 1);
    driver.createInputTopic('clicks', S, S).pipeInput('ignored', 'u9', 2);
    expect(driver.createOutputTopic('out', S, S).readKeyValuesToList()).toEqual([['u9', 'Zoe:u9']]);
  });
});

async function readAll(transport: MemoryTransport, topic: string): Promise<IncomingMessage[]> {
  const out: IncomingMessage[] = [];
  const n = await transport.partitionCount(topic);
  for (let p = 0; p < n; p++) for await (const chunk of transport.readPartition(topic, p)) out.push(...chunk);
  return out;
}

describe('KStream–KTable join on the runtime', () => {
  it('refuses to start when the stream and table topics have different partition counts', async () => {
    const cluster = new MemoryTransport();
    await cluster.ensureTopics([
      { name: 'users', partitions: 2 },
      { name: 'clicks', partitions: 3 },
    ]);
    const streams = new LogFlowStreams(enrich().build(), { applicationId: 'j1', transport: cluster });
    await expect(streams.start()).rejects.toThrow(/not co-partitioned/);
    await streams.close();
  });

  it('restores the table from its changelog on another instance', async () => {
    const cluster = new MemoryTransport();
    await cluster.ensureTopics([
      { name: 'users', partitions: 2 },
      { name: 'clicks', partitions: 2 },
    ]);
    const producer = cluster.producer();
    const first = new LogFlowStreams(enrich().build(), {
      applicationId: 'j2',
      transport: cluster.connection(),
      commitIntervalMs: 10,
    });
    await first.start();
    await producer.send([
      { topic: 'users', key: Buffer.from('u1'), value: Buffer.from('Alice') },
      { topic: 'users', key: Buffer.from('u2'), value: Buffer.from('Bob') },
    ]);
    await waitFor(async () => {
      const offsets = await cluster.committedOffsets('j2', 'users');
      return offsets.reduce((n, o) => n + Math.max(0, o.offset), 0) === 2;
    });
    await first.close();

    const second = new LogFlowStreams(enrich().build(), {
      applicationId: 'j2',
      transport: cluster.connection(),
      commitIntervalMs: 10,
    });
    await second.start();
    try {
      // The committed users offsets are past both records: only the restored store knows them.
      await producer.send([
        { topic: 'clicks', key: Buffer.from('u1'), value: Buffer.from('/a') },
        { topic: 'clicks', key: Buffer.from('u2'), value: Buffer.from('/b') },
      ]);
      const values = async () => (await readAll(cluster, 'joined')).map((m) => m.value?.toString()).sort();
      await waitFor(async () => (await values()).length === 2);
      expect(await values()).toEqual(['Alice:/a', 'Bob:/b']);
      const stores = [0, 1].map((p) => second.store<KeyValueStore<string, string>>('users-store', p));
      expect(stores.map((s) => s?.approximateNumEntries() ?? 0).reduce((a, n) => a + n, 0)).toBe(2);
    } finally {
      await second.close();
    }
  });
});
