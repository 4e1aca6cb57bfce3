/**
 * Turning our outgoing messages into kafkajs produce requests: partitions chosen before sending
 * (so every record's offset can be told from the per-partition base offsets the broker returns),
 * requests cut so no partition's record batch passes the broker's limit, and per-record acks.
 */
// First: kafkajs must bind the linear per-partition grouping (see the module).
import './kafkajs-linear-grouping.ts';
import { type Message, Partitioners, type RecordMetadata, type TopicMessages } from 'kafkajs';
import { partitionForKey } from './murmur2.ts';
import type { OutgoingMessage, RecordAck } from './transport.ts';

const partitioner = Partitioners.DefaultPartitioner();
const fakeMetadata = new Map<number, { partitionId: number; leader: number }[]>();
function metadataOf(count: number) {
  let list = fakeMetadata.get(count);
  if (!list) {
    list = Array.from({ length: count }, (_, partitionId) => ({
      partitionId,
      leader: 0,
      partitionErrorCode: 0,
      replicas: [0],
      isr: [0],
    }));
    fakeMetadata.set(count, list);
  }
  return list;
}

/** The partition of every message: its own, else Kafka's default partitioner's choice. */
export async function assignPartitions(
  messages: OutgoingMessage[],
  partitionCount: (topic: string) => Promise<number>,
): Promise<Int32Array> {
  const partitions = new Int32Array(messages.length);
  let counts: Map<string, number> | undefined;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i];
    let partition = m.partition;
    if (partition === undefined) {
      counts ??= new Map();
      let n = counts.get(m.topic);
      if (n === undefined) {
        n = await partitionCount(m.topic);
        counts.set(m.topic, n);
      }
      // Keyed: Kafka's murmur2 on 32-bit ints (kafkajs' own works on Long objects, ~10% of a
      // stage's CPU), the same partition bit for bit. Unkeyed: kafkajs' round-robin.
      partition =
        m.key !== null
          ? partitionForKey(m.key, n)
          : partitioner({
              topic: m.topic,
              partitionMetadata: metadataOf(n) as never,
              message: { key: m.key, value: m.value },
            });
    }
    partitions[i] = partition;
  }
  return partitions;
}

/**
 * kafkajs sends all records of one partition in one record batch and never splits it, while the
 * broker refuses batches over `message.max.bytes` (1 MiB by default) — so a send is cut into
 * requests in which no partition gets more than this many bytes, sent one after the other (order
 * per partition is kept). A request may carry this much for each of several partitions.
 */
export const MAX_PARTITION_BYTES = 900 * 1024;

export function approximateSize(m: OutgoingMessage): number {
  let size = 24 + (m.key?.length ?? 0) + (m.value?.length ?? 0);
  if (m.headers) for (const name in m.headers) size += name.length + m.headers[name].length + 4;
  return size;
}

/**
 * Ends (exclusive) of consecutive runs of `messages` in which no topic-partition passes
 * `maxBytes` (a single larger record travels alone).
 */
export function chunkEnds(
  messages: OutgoingMessage[],
  partitions: Int32Array,
  maxBytes = MAX_PARTITION_BYTES,
): number[] {
  const ends: number[] = [];
  let bytes = new Map<string, number>();
  let start = 0;
  for (let i = 0; i < messages.length; i++) {
    const key = `${messages[i].topic}\u0000${partitions[i]}`;
    const size = approximateSize(messages[i]);
    const sofar = bytes.get(key) ?? 0;
    if (sofar + size > maxBytes && i > start) {
      ends.push(i);
      start = i;
      bytes = new Map();
      bytes.set(key, size);
    } else {
      bytes.set(key, sofar + size);
    }
  }
  ends.push(messages.length);
  return ends;
}

/** kafkajs topic batches of `messages[start, end)` with their explicit partitions. */
export function toTopicMessages(
  messages: OutgoingMessage[],
  partitions: Int32Array,
  start = 0,
  end = messages.length,
): TopicMessages[] {
  const byTopic = new Map<string, Message[]>();
  for (let i = start; i < end; i++) {
    const m = messages[i];
    let list = byTopic.get(m.topic);
    if (!list) {
      list = [];
      byTopic.set(m.topic, list);
    }
    list.push({
      key: m.key,
      value: m.value,
      partition: partitions[i],
      timestamp: m.timestamp === undefined ? undefined : String(m.timestamp),
      headers: m.headers,
    });
  }
  const out: TopicMessages[] = [];
  for (const [topic, list] of byTopic) out.push({ topic, messages: list });
  return out;
}

/**
 * Fills `acks[start, end)` from the broker's per-partition base offsets (records keep their order
 * per partition within a request).
 */
export function fillAcks(
  acks: RecordAck[],
  messages: OutgoingMessage[],
  partitions: Int32Array,
  meta: RecordMetadata[],
  start = 0,
  end = messages.length,
): void {
  const next = new Map<string, number>();
  for (const r of meta) next.set(`${r.topicName}\u0000${r.partition}`, Number(r.baseOffset));
  for (let i = start; i < end; i++) {
    const key = `${messages[i].topic}\u0000${partitions[i]}`;
    const offset = next.get(key) ?? -1;
    if (offset >= 0) next.set(key, offset + 1);
    acks[i] = { topic: messages[i].topic, partition: partitions[i], offset };
  }
}
