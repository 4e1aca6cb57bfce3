import { describe, expect, it } from 'vitest';
import type { IncomingMessage, OutgoingMessage } from '../../../topology/transport/transport.ts';
import { waitFor } from '../../helpers/wait-for.ts';
import { createTopic, groupId, kafkaTransport, readAll, startMember } from './kafka-helpers.ts';

const msg = (
  topic: string,
  key: string,
  value: string,
  extra: Partial<OutgoingMessage> = {},
): OutgoingMessage => ({
  topic,
  key: Buffer.from(key),
  value: Buffer.from(value),
  ...extra,
});

describe('KafkaTransport on the real broker', () => {
  it('creates topics, produces with per-record acks, and a group member reads everything in partition order', async () => {
    const transport = kafkaTransport();
    const topic = await createTopic(transport, 3);
    expect(await transport.partitionCount(topic)).toBe(3);

    const producer = transport.producer();
    await producer.connect();
    const messages = Array.from({ length: 60 }, (_, i) =>
      msg(topic, `key-${i % 7}`, `value-${i}`, {
        timestamp: 1_700_000_000_000 + i,
        headers: { n: Buffer.from(String(i)) },
      }),
    );
    const acks = await producer.send(messages);
    await producer.disconnect();

    expect(acks).toHaveLength(60);
    // Same key → same partition; offsets within a partition are contiguous from 0 in send order.
    const partitionOfKey = new Map<string, number>();
    const nextOffset = new Map<number, number>();
    acks.forEach((ack, i) => {
      const key = `key-${i % 7}`;
      if (partitionOfKey.has(key)) expect(ack.partition).toBe(partitionOfKey.get(key));
      partitionOfKey.set(key, ack.partition);
      expect(ack.offset).toBe(nextOffset.get(ack.partition) ?? 0);
      nextOffset.set(ack.partition, ack.offset + 1);
    });
    const ends = await transport.endOffsets(topic);
    expect(ends.map((e) => e.offset)).toEqual([0, 1, 2].map((p) => nextOffset.get(p) ?? 0));

    const group = groupId();
    const member = await startMember(transport, group, [topic], { commit: true });
    await waitFor(() => member.received.length === 60, { what: '60 records consumed' });

    const byValue = new Map(member.received.map((m) => [m.value!.toString(), m]));
    for (let i = 0; i < 60; i++) {
      const m = byValue.get(`value-${i}`)!;
      expect(m.key!.toString()).toBe(`key-${i % 7}`);
      expect(m.timestamp).toBe(1_700_000_000_000 + i);
      expect(m.headers.n.toString()).toBe(String(i));
      expect(m.partition).toBe(acks[i].partition);
      expect(m.offset).toBe(acks[i].offset);
    }
    for (const p of [0, 1, 2]) {
      const offsets = member.received.filter((m) => m.partition === p).map((m) => m.offset);
      expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    }
    await waitFor(
      async () =>
        JSON.stringify((await transport.committedOffsets(group, topic)).filter((o) => o.offset > 0)) ===
        JSON.stringify(ends.filter((o) => o.offset > 0)),
      { what: 'committed offsets equal end offsets' },
    );
  });

  it('splits partitions between two members of a group and moves them when one leaves', async () => {
    const transport = kafkaTransport();
    const topic = await createTopic(transport, 4);
    const group = groupId();

    const a = await startMember(transport, group, [topic], { commit: true });
    await waitFor(() => a.owned.size === 4, { what: 'first member owns all 4 partitions' });
    const b = await startMember(transport, group, [topic], { commit: true });
    await waitFor(() => a.owned.size > 0 && b.owned.size > 0 && a.owned.size + b.owned.size === 4, {
      what: 'partitions split between the two members',
      timeoutMs: 60_000,
    });
    expect([...a.owned].some((p) => b.owned.has(p))).toBe(false);
    // a gave up exactly what b got.
    expect(
      a.revoked
        .flat()
        .map((p) => `${p.topic}:${p.partition}`)
        .sort(),
    ).toEqual([...b.owned].sort());

    const producer = transport.producer();
    await producer.connect();
    await producer.send(Array.from({ length: 40 }, (_, i) => msg(topic, `k${i}`, `v${i}`)));
    await waitFor(() => a.received.length + b.received.length === 40, { what: 'both members consume' });
    expect(a.received.length).toBeGreaterThan(0);
    expect(b.received.length).toBeGreaterThan(0);

    const bOwned = [...b.owned];
    await b.consumer.disconnect();
    expect(
      b.revoked
        .flat()
        .map((p) => `${p.topic}:${p.partition}`)
        .sort(),
    ).toEqual(bOwned.sort());
    await waitFor(() => a.owned.size === 4, {
      what: 'remaining member takes all partitions',
      timeoutMs: 60_000,
    });

    await producer.send(Array.from({ length: 40 }, (_, i) => msg(topic, `k${i}`, `after-${i}`)));
    await producer.disconnect();
    await waitFor(() => a.received.filter((m) => m.value!.toString().startsWith('after-')).length === 40, {
      what: 'remaining member reads the records of every partition',
    });
    // Everything b committed is not read again by a.
    expect(a.received.length + b.received.length).toBe(80);
  });

  it('transactions: read_committed consumers see committed records only, and offsets commit with them', async () => {
    const transport = kafkaTransport();
    const input = await createTopic(transport, 2);
    const output = await createTopic(transport, 2);
    const group = groupId();

    const producer = transport.producer({ transactionalId: `${group}-txn` });
    await producer.connect();
    const aborted = await producer.transaction();
    await aborted.send([msg(output, 'k', 'aborted-1'), msg(output, 'k2', 'aborted-2')]);
    await aborted.abort();

    // Back-to-back transactions with offsets: CONCURRENT_TRANSACTIONS must be retried, not surfaced.
    for (let i = 0; i < 15; i++) {
      const txn = await producer.transaction();
      await txn.send([msg(output, `k${i}`, `committed-${i}`)]);
      await txn.sendOffsets(group, [{ topic: input, partition: i % 2, offset: i + 1 }]);
      await txn.commit();
    }
    await producer.disconnect();

    const committed = await startMember(transport, groupId(), [output]);
    const uncommitted = await startMember(transport, groupId(), [output], { readCommitted: false });
    await waitFor(() => committed.received.length >= 15 && uncommitted.received.length >= 17, {
      what: 'both readers caught up',
    });
    const values = (list: IncomingMessage[]) => list.map((m) => m.value!.toString()).sort();
    expect(values(committed.received)).toEqual(Array.from({ length: 15 }, (_, i) => `committed-${i}`).sort());
    expect(values(uncommitted.received)).toContain('aborted-1');

    expect(await transport.committedOffsets(group, input)).toEqual([
      { topic: input, partition: 0, offset: 15 },
      { topic: input, partition: 1, offset: 14 },
    ]);
  });

  it('reads a compacted changelog partition from an offset to its end, skipping aborted writes', async () => {
    const transport = kafkaTransport();
    const changelog = await createTopic(transport, 2, { compacted: true, prefix: 'lf-test-changelog' });
    const producer = transport.producer();
    await producer.connect();
    await producer.send(
      Array.from({ length: 500 }, (_, i) => msg(changelog, `k${i % 50}`, `v${i}`, { partition: 1 })),
    );
    await producer.disconnect();

    const read = async (partition: number, from?: number) => {
      const out: IncomingMessage[] = [];
      for await (const batch of transport.readPartition(changelog, partition, from)) out.push(...batch);
      return out;
    };
    expect(await read(0)).toEqual([]);
    const all = await read(1);
    expect(all.map((m) => m.offset)).toEqual(Array.from({ length: 500 }, (_, i) => i));
    const tail = await read(1, 480);
    expect(tail.map((m) => m.value!.toString())).toEqual(Array.from({ length: 20 }, (_, i) => `v${480 + i}`));

    // A transactional writer: the aborted record never comes back, and the read still ends
    // although the partition ends with a transaction marker.
    const txnProducer = transport.producer({ transactionalId: `${changelog}-writer` });
    await txnProducer.connect();
    const bad = await txnProducer.transaction();
    await bad.send([msg(changelog, 'k1', 'aborted', { partition: 1 })]);
    await bad.abort();
    const good = await txnProducer.transaction();
    await good.send([msg(changelog, 'k1', 'committed', { partition: 1 })]);
    await good.commit();
    await txnProducer.disconnect();
    // The coordinator writes the commit marker after commit() returns, so the last stable offset
    // (where a read_committed read ends) may lag a moment: read again until the record is stable.
    let after: string[] = [];
    await waitFor(
      async () => {
        after = (await read(1, 500)).map((m) => m.value!.toString());
        return after.length > 0;
      },
      { what: 'the committed write to become stable' },
    );
    expect(after).toEqual(['committed']);
  });

  it('pauses and resumes a partition', async () => {
    const transport = kafkaTransport();
    const topic = await createTopic(transport, 2);
    const member = await startMember(transport, groupId(), [topic]);
    await waitFor(() => member.owned.size === 2, { what: 'assignment' });
    member.consumer.pause([{ topic, partition: 0 }]);
    const producer = transport.producer();
    await producer.connect();
    await producer.send([msg(topic, 'a', 'p0', { partition: 0 }), msg(topic, 'b', 'p1', { partition: 1 })]);
    await waitFor(() => member.received.some((m) => m.partition === 1), { what: 'partition 1 consumed' });
    expect(member.received.some((m) => m.partition === 0)).toBe(false);
    member.consumer.resume([{ topic, partition: 0 }]);
    await waitFor(() => member.received.some((m) => m.partition === 0), {
      what: 'partition 0 consumed after resume',
    });
    await producer.disconnect();
  });
});

describe('KafkaTransport producer limits', () => {
  it('sends a batch larger than the broker’s 1 MiB record-batch limit to one partition', async () => {
    const transport = kafkaTransport();
    const topic = await createTopic(transport, 1);
    const producer = transport.producer();
    await producer.connect();
    const value = Buffer.alloc(1000, 'x');
    const acks = await producer.send(
      Array.from({ length: 3000 }, (_, i) => ({ topic, key: Buffer.from(String(i)), value, partition: 0 })),
    );
    await producer.disconnect();
    expect(acks.map((a) => a.offset)).toEqual(Array.from({ length: 3000 }, (_, i) => i));
    expect(await transport.endOffsets(topic)).toEqual([{ topic, partition: 0, offset: 3000 }]);
  });

  it('sends made while one is in flight go out together yet keep call order and their own acks', async () => {
    const transport = kafkaTransport();
    const topic = await createTopic(transport, 2);
    const producer = transport.producer();
    await producer.connect();
    // 40 sends at once, 2 partitions, ~2 MiB in all: coalesced into requests, split per partition.
    const value = Buffer.alloc(500, 'v');
    const sends = Array.from({ length: 40 }, (_, s) =>
      producer.send(
        Array.from({ length: 100 }, (_, i) => ({
          topic,
          key: Buffer.from(`${s}:${i}`),
          value,
          partition: i % 2,
        })),
      ),
    );
    const acks = await Promise.all(sends);
    await producer.disconnect();
    const next = [0, 0];
    acks.forEach((list) => {
      expect(list).toHaveLength(100);
      list.forEach((ack, i) => {
        expect(ack.partition).toBe(i % 2);
        // Offsets per partition follow the order of the send calls, then of the records.
        expect(ack.offset).toBe(next[ack.partition]++);
      });
    });
    expect(await transport.endOffsets(topic)).toEqual([
      { topic, partition: 0, offset: 2000 },
      { topic, partition: 1, offset: 2000 },
    ]);
    const all = await readAll(transport, topic);
    for (const p of [0, 1]) {
      const keys = all.filter((m) => m.partition === p).map((m) => m.key!.toString());
      const expected = [];
      for (let s = 0; s < 40; s++) for (let i = p; i < 100; i += 2) expected.push(`${s}:${i}`);
      expect(keys).toEqual(expected);
    }
  });
});
