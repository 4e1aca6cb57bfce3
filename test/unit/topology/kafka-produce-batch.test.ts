import { describe, expect, it } from 'vitest';
import {
  approximateSize,
  fillAcks,
  planProduce,
  toTopicMessages,
} from '../../../topology/transport/kafka-produce-batch.ts';
import type { OutgoingMessage, RecordAck } from '../../../topology/transport/transport.ts';
import { seededRandom } from '../../helpers/seeded-random.ts';

const rng = seededRandom;

function randomSend(random: () => number) {
  const topics = ['a', 'b', 'c'].slice(0, 1 + Math.floor(random() * 3));
  const n = Math.floor(random() * 300);
  const messages: OutgoingMessage[] = [];
  const partitions = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const big = random() < 0.02;
    messages.push({
      topic: topics[Math.floor(random() * topics.length)],
      key: random() < 0.1 ? null : Buffer.alloc(Math.floor(random() * 20)),
      value: Buffer.alloc(big ? 3_000 : Math.floor(random() * 400)),
      headers: random() < 0.2 ? { h: Buffer.from('x'.repeat(Math.floor(random() * 50))) } : undefined,
    });
    partitions[i] = Math.floor(random() * 5);
  }
  return { messages, partitions };
}

/** The rule, stated plainly: a request ends before a record that would take its partition past the limit. */
function referenceEnds(messages: OutgoingMessage[], partitions: Int32Array, maxBytes: number): number[] {
  const ends: number[] = [];
  let bytes = new Map<string, number>();
  let start = 0;
  messages.forEach((m, i) => {
    const key = `${m.topic}/${partitions[i]}`;
    const size = approximateSize(m);
    if ((bytes.get(key) ?? 0) + size > maxBytes && i > start) {
      ends.push(i);
      start = i;
      bytes = new Map();
    }
    bytes.set(key, (bytes.get(key) ?? 0) + size);
  });
  ends.push(messages.length);
  return ends;
}

describe('produce planning', () => {
  it('cuts requests where a partition would pass the byte limit, never elsewhere', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const random = rng(seed);
      const { messages, partitions } = randomSend(random);
      const maxBytes = 500 + Math.floor(random() * 5_000);
      const plan = planProduce(messages, partitions, maxBytes);
      expect(plan.ends, `seed ${seed}`).toEqual(referenceEnds(messages, partitions, maxBytes));
      for (let i = 0; i < messages.length; i++) {
        expect(plan.slotTopics[plan.slots[i]]).toBe(messages[i].topic);
        expect(plan.slotPartitions[plan.slots[i]]).toBe(partitions[i]);
      }
    }
  });

  it('a record larger than the limit travels alone', () => {
    const messages: OutgoingMessage[] = [
      { topic: 't', key: null, value: Buffer.alloc(10) },
      { topic: 't', key: null, value: Buffer.alloc(5_000) },
      { topic: 't', key: null, value: Buffer.alloc(10) },
    ];
    expect(planProduce(messages, new Int32Array(3), 1_000).ends).toEqual([1, 2, 3]);
  });

  it('gives each record its offset from its partition base offset, in order', () => {
    const random = rng(7);
    const { messages, partitions } = randomSend(random);
    const plan = planProduce(messages, partitions, 2_000);
    const acks: RecordAck[] = new Array(messages.length);
    const expected = new Map<string, number>();
    let start = 0;
    for (const end of plan.ends) {
      // The broker answers each request with the base offset of each topic-partition it held.
      const meta: { topicName: string; partition: number; baseOffset: string; errorCode: number }[] = [];
      for (let i = start; i < end; i++) {
        const key = `${messages[i].topic}/${partitions[i]}`;
        if (!meta.some((r) => `${r.topicName}/${r.partition}` === key)) {
          const base = expected.get(key) ?? 1_000 * (1 + meta.length);
          meta.push({
            topicName: messages[i].topic,
            partition: partitions[i],
            baseOffset: String(base),
            errorCode: 0,
          });
          expected.set(key, base);
        }
      }
      fillAcks(acks, messages, plan, meta, start, end);
      for (let i = start; i < end; i++) {
        const key = `${messages[i].topic}/${partitions[i]}`;
        const offset = expected.get(key)!;
        expect(acks[i]).toEqual({ topic: messages[i].topic, partition: partitions[i], offset });
        expected.set(key, offset + 1);
      }
      start = end;
    }
  });

  it('groups a run of messages per topic, keeping their order and partitions', () => {
    const messages: OutgoingMessage[] = ['a', 'b', 'a', 'a', 'c', 'b'].map((topic, i) => ({
      topic,
      key: Buffer.from(String(i)),
      value: null,
      timestamp: 1_000 + i,
    }));
    const partitions = Int32Array.from([0, 1, 2, 0, 1, 2]);
    const grouped = toTopicMessages(messages, partitions, 1, 6);
    expect(
      grouped.map((t) => [t.topic, t.messages.map((m) => [String(m.key), m.partition, m.timestamp])]),
    ).toEqual([
      [
        'b',
        [
          ['1', 1, '1001'],
          ['5', 2, '1005'],
        ],
      ],
      [
        'a',
        [
          ['2', 2, '1002'],
          ['3', 0, '1003'],
        ],
      ],
      ['c', [['4', 1, '1004']]],
    ]);
  });
});
