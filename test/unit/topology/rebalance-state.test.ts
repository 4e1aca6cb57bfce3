import { describe, expect, it } from 'vitest';
import {
  Consumed,
  type KeyValueStore,
  LogFlowStreams,
  LongSerde,
  Materialized,
  MemoryTransport,
  Produced,
  TopologyBuilder,
} from '../../../topology/index.ts';
import { Serdes } from '../../../topology/serdes/index.ts';
import { waitFor } from '../../helpers/wait-for.ts';

const S = Serdes.String();
const L = new LongSerde();

function counting() {
  const b = new TopologyBuilder();
  b.stream('in', Consumed.with(S, S))
    .groupByKey()
    .count(Materialized.as('counts'))
    .toStream()
    .to('counts-out', Produced.with(S, L));
  return b.build();
}

async function restoredRecords(streams: LogFlowStreams): Promise<number> {
  const metric = await streams.registry.getSingleMetric('logflow_state_restore_records_total')!.get();
  return metric.values.reduce((n, v) => n + v.value, 0);
}

describe('state kept across rebalances', () => {
  it('a partition given back to the instance that revoked it applies only what its changelog gained', async () => {
    const cluster = new MemoryTransport();
    await cluster.ensureTopics([{ name: 'in', partitions: 2 }]);
    const config = (instanceId: string) => ({
      applicationId: 'keep',
      transport: cluster.connection(),
      commitIntervalMs: 10,
      instanceId,
    });
    const send = (partition: number, n: number) =>
      cluster.producer().send(
        Array.from({ length: n }, (_, i) => ({
          topic: 'in',
          key: Buffer.from(`k${partition}`),
          value: Buffer.from(String(i)),
          partition,
        })),
      );
    const committed = async () =>
      (await cluster.committedOffsets('keep', 'in')).reduce((n, o) => n + Math.max(0, o.offset), 0);

    const a = new LogFlowStreams(counting(), config('a'));
    await a.start();
    const b = new LogFlowStreams(counting(), config('b'));
    try {
      // Several batches, so the changelog holds several updates per key.
      for (let i = 0; i < 4; i++) {
        await send(0, 5);
        await send(1, 5);
        await waitFor(async () => (await committed()) === 10 * (i + 1));
      }
      await b.start();
      await waitFor(() => a.assignedTasks.length === 1 && b.assignedTasks.length === 1, {
        what: 'one partition moved to b',
      });
      const moved = Number(b.assignedTasks[0].split('_')[1]);
      const changelog = 'keep-counts-changelog';
      const before = (await cluster.endOffsets(changelog))[moved].offset;
      expect(before).toBeGreaterThan(1);

      await send(moved, 3);
      await waitFor(async () => (await committed()) === 43);
      await b.close();
      await waitFor(() => a.assignedTasks.length === 2, { what: 'the partition back on a' });

      const counts = a.store<KeyValueStore<string, number>>('counts', moved)!;
      expect(counts.get(`k${moved}`)).toBe(23);
      const after = (await cluster.endOffsets(changelog))[moved].offset;
      // a restored nothing at its start (empty changelog) and only b's writes when the partition came back.
      expect(after).toBeGreaterThan(before);
      expect(await restoredRecords(a)).toBe(after - before);

      // Still counting on top of the kept state.
      await send(moved, 2);
      await waitFor(() => counts.get(`k${moved}`) === 25, { what: 'count 25' });
    } finally {
      await b.close();
      await a.close();
    }
  });
});
