import { Partitioners } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryTransport } from '../../../topology/transport/memory-transport.ts';
import { partitionForKey } from '../../../topology/transport/murmur2.ts';
import type { Batch, IncomingMessage, TopicPartition } from '../../../topology/transport/transport.ts';
import { waitFor } from '../../helpers/wait-for.ts';

const b = (s: string) => Buffer.from(s);

let transport: MemoryTransport;
afterEach(async () => {
  await transport?.close();
});

function collector() {
  const seen: IncomingMessage[] = [];
  const assigned: TopicPartition[] = [];
  const revoked: TopicPartition[] = [];
  return {
    seen,
    assigned,
    revoked,
    options: {
      eachBatch: async (batch: Batch) => {
        seen.push(...batch.messages);
      },
      onAssigned: async (tps: TopicPartition[]) => {
        assigned.push(...tps);
      },
      onRevoked: async (tps: TopicPartition[]) => {
        revoked.push(...tps);
      },
    },
  };
}

describe('MemoryTransport', () => {
  it('partitions keys exactly like Kafka’s default (murmur2) partitioner', () => {
    const kafkajs = Partitioners.DefaultPartitioner();
    const partitionMetadata = Array.from({ length: 12 }, (_, i) => ({ partitionId: i, leader: 0 })) as never;
    for (const key of ['a', 'api', 'user-42', 'checkout-service', '', 'ünïcødé', 'x'.repeat(37)]) {
      const expected = kafkajs({ topic: 't', partitionMetadata, message: { key: b(key), value: null } });
      expect(partitionForKey(b(key), 12), key).toBe(expected);
    }
  });

  it('keeps per-partition order and offsets, and reports end offsets', async () => {
    transport = new MemoryTransport();
    await transport.ensureTopics([{ name: 't', partitions: 3 }]);
    const producer = transport.producer();
    const acks = await producer.send(
      Array.from({ length: 30 }, (_, i) => ({ topic: 't', key: b(`k${i % 5}`), value: b(`${i}`) })),
    );
    const perPartition = new Map<number, number[]>();
    for (const a of acks) perPartition.set(a.partition, [...(perPartition.get(a.partition) ?? []), a.offset]);
    for (const offsets of perPartition.values()) expect(offsets).toEqual(offsets.map((_, i) => i));
    const ends = await transport.endOffsets('t');
    expect(ends.reduce((n, e) => n + e.offset, 0)).toBe(30);
  });

  it('splits partitions between two members of a group and rebalances when one leaves', async () => {
    transport = new MemoryTransport();
    await transport.ensureTopics([{ name: 't', partitions: 4 }]);
    const a = collector();
    const bb = collector();
    const ca = transport.consumer({ groupId: 'g' });
    const cb = transport.consumer({ groupId: 'g' });
    await ca.subscribe(['t']);
    await ca.run(a.options);
    expect(a.assigned.map((tp) => tp.partition).sort()).toEqual([0, 1, 2, 3]);
    await cb.subscribe(['t']);
    await cb.run(bb.options);
    // Range assignment: the first member keeps 0-1, the second gets 2-3 (revoked from the first).
    expect(bb.assigned.map((tp) => tp.partition).sort()).toEqual([2, 3]);
    expect(a.revoked.map((tp) => tp.partition).sort()).toEqual([2, 3]);

    const producer = transport.producer();
    await producer.send(
      Array.from({ length: 40 }, (_, i) => ({ topic: 't', key: null, value: b(`${i}`), partition: i % 4 })),
    );
    await waitFor(() => a.seen.length + bb.seen.length === 40);
    expect(new Set(a.seen.map((m) => m.partition))).toEqual(new Set([0, 1]));
    expect(new Set(bb.seen.map((m) => m.partition))).toEqual(new Set([2, 3]));

    await cb.disconnect();
    expect(bb.revoked.map((tp) => tp.partition).sort()).toEqual([2, 3]);
    expect(a.assigned.map((tp) => tp.partition).sort()).toEqual([0, 1, 2, 3, 2, 3].sort());
  });

  it('resumes a group from its committed offsets', async () => {
    transport = new MemoryTransport();
    await transport.ensureTopics([{ name: 't', partitions: 1 }]);
    const producer = transport.producer();
    await producer.send(Array.from({ length: 10 }, (_, i) => ({ topic: 't', key: null, value: b(`${i}`) })));
    const first = collector();
    const c1 = transport.consumer({ groupId: 'g' });
    await c1.subscribe(['t']);
    await c1.run(first.options);
    await waitFor(() => first.seen.length === 10);
    await c1.commit([{ topic: 't', partition: 0, offset: 6 }]);
    await c1.disconnect();
    const second = collector();
    const c2 = transport.consumer({ groupId: 'g' });
    await c2.subscribe(['t']);
    await c2.run(second.options);
    await waitFor(() => second.seen.length === 4);
    expect(second.seen.map((m) => m.value!.toString())).toEqual(['6', '7', '8', '9']);
    expect(await transport.committedOffsets('g', 't')).toEqual([{ topic: 't', partition: 0, offset: 6 }]);
  });

  it('pauses, resumes and seeks', async () => {
    transport = new MemoryTransport();
    await transport.ensureTopics([{ name: 't', partitions: 1 }]);
    const got = collector();
    const c = transport.consumer({ groupId: 'g' });
    await c.subscribe(['t']);
    c.pause([{ topic: 't', partition: 0 }]);
    await c.run(got.options);
    await transport.producer().send([
      { topic: 't', key: null, value: b('a') },
      { topic: 't', key: null, value: b('b') },
    ]);
    await new Promise((r) => setImmediate(r));
    expect(got.seen).toHaveLength(0);
    c.resume([{ topic: 't', partition: 0 }]);
    await waitFor(() => got.seen.length === 2);
    c.seek({ topic: 't', partition: 0, offset: 1 });
    await waitFor(() => got.seen.length === 3);
    expect(got.seen[2].value!.toString()).toBe('b');
  });

  it('hides transactional messages until commit, drops aborted ones, commits offsets with the transaction', async () => {
    transport = new MemoryTransport();
    await transport.ensureTopics([
      { name: 'in', partitions: 1 },
      { name: 'out', partitions: 1 },
    ]);
    const got = collector();
    const c = transport.consumer({ groupId: 'reader', readCommitted: true });
    await c.subscribe(['out']);
    await c.run(got.options);
    const producer = transport.producer({ transactionalId: 'tx-1' });
    await producer.connect();

    const aborted = await producer.transaction();
    await aborted.send([{ topic: 'out', key: null, value: b('aborted') }]);
    await aborted.sendOffsets('app', [{ topic: 'in', partition: 0, offset: 5 }]);
    await aborted.abort();

    const tx = await producer.transaction();
    await tx.send([{ topic: 'out', key: null, value: b('committed') }]);
    await tx.sendOffsets('app', [{ topic: 'in', partition: 0, offset: 7 }]);
    expect((await transport.endOffsets('out'))[0].offset).toBe(0);
    expect((await transport.committedOffsets('app', 'in'))[0].offset).toBe(-1);
    await tx.commit();
    await waitFor(() => got.seen.length === 1);
    expect(got.seen[0].value!.toString()).toBe('committed');
    expect((await transport.committedOffsets('app', 'in'))[0].offset).toBe(7);
  });

  it('fences a zombie producer when a newer one claims its transactional id', async () => {
    transport = new MemoryTransport();
    await transport.ensureTopics([{ name: 'out', partitions: 1 }]);
    const zombie = transport.producer({ transactionalId: 'tx' });
    await zombie.connect();
    const tx = await zombie.transaction();
    await tx.send([{ topic: 'out', key: null, value: b('zombie') }]);
    const fresh = transport.producer({ transactionalId: 'tx' });
    await fresh.connect();
    await expect(tx.commit()).rejects.toThrow(/fenced/);
    expect((await transport.endOffsets('out'))[0].offset).toBe(0);
  });

  it('serves the latest value per key when restoring a compacted topic', async () => {
    transport = new MemoryTransport();
    await transport.ensureTopics([{ name: 'c', partitions: 1, compacted: true }]);
    await transport.producer().send([
      { topic: 'c', key: b('a'), value: b('1') },
      { topic: 'c', key: b('b'), value: b('1') },
      { topic: 'c', key: b('a'), value: b('2') },
      { topic: 'c', key: b('b'), value: null },
    ]);
    const read: IncomingMessage[] = [];
    for await (const chunk of transport.readPartition('c', 0)) read.push(...chunk);
    expect(read.map((m) => `${m.key}=${m.value}`)).toEqual(['a=2']);
  });

  it('does not starve the event loop while a consumer is busy', async () => {
    transport = new MemoryTransport();
    await transport.ensureTopics([{ name: 't', partitions: 2 }]);
    const total = 100_000;
    await transport
      .producer()
      .send(Array.from({ length: total }, (_, i) => ({ topic: 't', key: null, value: b(`${i}`) })));
    let seen = 0;
    const c = transport.consumer({ groupId: 'g', maxBatchSize: 100 });
    await c.subscribe(['t']);
    // A timer set before the consumer starts must fire long before it has read everything.
    const seenWhenTimerFired = new Promise<number>((resolve) => setTimeout(() => resolve(seen), 0));
    await c.run({
      eachBatch: async (batch) => {
        seen += batch.messages.length;
      },
    });
    expect(await seenWhenTimerFired).toBeLessThan(total);
    await waitFor(() => seen === total);
  });

  it('round-robin assignment deals partitions one by one', async () => {
    transport = new MemoryTransport({ assignmentStrategy: 'roundrobin' });
    await transport.ensureTopics([{ name: 't', partitions: 4 }]);
    const a = collector();
    const bb = collector();
    const ca = transport.consumer({ groupId: 'g' });
    const cb = transport.consumer({ groupId: 'g' });
    await ca.subscribe(['t']);
    await cb.subscribe(['t']);
    await ca.run(a.options);
    await cb.run(bb.options);
    const held = (x: ReturnType<typeof collector>) =>
      x.assigned
        .filter((tp) => !x.revoked.some((r) => r.partition === tp.partition))
        .map((tp) => tp.partition);
    expect(held(a).sort()).toEqual([0, 2]);
    expect(held(bb).sort()).toEqual([1, 3]);
  });

  it('starts a new group at the end when fromBeginning is false', async () => {
    transport = new MemoryTransport();
    await transport.ensureTopics([{ name: 't', partitions: 1 }]);
    await transport.producer().send([{ topic: 't', key: null, value: b('old') }]);
    const got = collector();
    const c = transport.consumer({ groupId: 'late', fromBeginning: false });
    await c.subscribe(['t']);
    await c.run(got.options);
    await transport.producer().send([{ topic: 't', key: null, value: b('new') }]);
    await waitFor(() => got.seen.length === 1);
    expect(got.seen[0].value!.toString()).toBe('new');
  });
});
