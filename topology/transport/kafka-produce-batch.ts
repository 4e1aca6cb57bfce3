/**
 * Turning our outgoing messages into kafkajs produce requests: partitions chosen before sending
 * (so every record's offset can be told from the per-partition base offsets the broker returns),
 * requests cut so no partition's record batch passes the broker's limit, and per-record acks.
 *
 * Everything here runs once per produced record, so it works on small integers — a message's
 * topic-partition is a "slot" number found through the topic's partition array — instead of
 * building a `topic\0partition` string and a Map entry per record.
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
 * How one send goes out: each message's topic-partition slot, and the ends (exclusive) of the
 * consecutive runs of messages sent as one request each.
 */
export interface ProducePlan {
  partitions: Int32Array;
  /** Slot of each message: an index into slotTopics / slotPartitions. */
  slots: Int32Array;
  slotTopics: string[];
  slotPartitions: number[];
  /** Slot per partition, per topic (for reading the broker's answer back). */
  slotsByTopic: Map<string, number[]>;
  /** Ends (exclusive) of runs of messages in which no topic-partition passes the byte limit. */
  ends: number[];
}

/**
 * Plans a send of `messages` with their `partitions`: slots, and request boundaries such that no
 * topic-partition of a request gets more than `maxBytes` (a single larger record travels alone).
 */
export function planProduce(
  messages: OutgoingMessage[],
  partitions: Int32Array,
  maxBytes = MAX_PARTITION_BYTES,
): ProducePlan {
  const n = messages.length;
  const slots = new Int32Array(n);
  const slotTopics: string[] = [];
  const slotPartitions: number[] = [];
  const slotsByTopic = new Map<string, number[]>();
  const bytes: number[] = [];
  const touched: number[] = [];
  const ends: number[] = [];
  // Most sends go to one topic: remember the last topic's slot array instead of a Map lookup.
  let lastTopic: string | undefined;
  let lastSlots: number[] = [];
  let start = 0;
  for (let i = 0; i < n; i++) {
    const m = messages[i];
    if (m.topic !== lastTopic) {
      lastTopic = m.topic;
      let list = slotsByTopic.get(m.topic);
      if (!list) {
        list = [];
        slotsByTopic.set(m.topic, list);
      }
      lastSlots = list;
    }
    const partition = partitions[i];
    let slot = lastSlots[partition];
    if (slot === undefined) {
      slot = slotTopics.length;
      lastSlots[partition] = slot;
      slotTopics.push(m.topic);
      slotPartitions.push(partition);
      bytes.push(0);
    }
    slots[i] = slot;
    const size = approximateSize(m);
    if (bytes[slot] + size > maxBytes && i > start) {
      ends.push(i);
      start = i;
      for (const s of touched) bytes[s] = 0;
      touched.length = 0;
    }
    if (bytes[slot] === 0) touched.push(slot);
    bytes[slot] += size;
  }
  ends.push(n);
  return { partitions, slots, slotTopics, slotPartitions, slotsByTopic, ends };
}

/** kafkajs topic batches of `messages[start, end)` with their explicit partitions. */
export function toTopicMessages(
  messages: OutgoingMessage[],
  partitions: Int32Array,
  start = 0,
  end = messages.length,
): TopicMessages[] {
  const out: TopicMessages[] = [];
  let lastTopic: string | undefined;
  let list: Message[] = [];
  for (let i = start; i < end; i++) {
    const m = messages[i];
    if (m.topic !== lastTopic) {
      lastTopic = m.topic;
      const existing = out.find((t) => t.topic === m.topic);
      if (existing) list = existing.messages;
      else {
        list = [];
        out.push({ topic: m.topic, messages: list });
      }
    }
    list.push({
      key: m.key,
      value: m.value,
      partition: partitions[i],
      timestamp: m.timestamp === undefined ? undefined : String(m.timestamp),
      headers: m.headers,
    });
  }
  return out;
}

/**
 * Fills `acks[start, end)` from the broker's per-partition base offsets (records keep their order
 * per partition within a request).
 */
export function fillAcks(
  acks: RecordAck[],
  messages: OutgoingMessage[],
  plan: ProducePlan,
  meta: RecordMetadata[],
  start = 0,
  end = messages.length,
): void {
  const next = new Array<number>(plan.slotTopics.length).fill(-1);
  for (const r of meta) {
    const slot = plan.slotsByTopic.get(r.topicName)?.[r.partition];
    if (slot !== undefined) next[slot] = Number(r.baseOffset);
  }
  const { slots, partitions } = plan;
  for (let i = start; i < end; i++) {
    const slot = slots[i];
    const offset = next[slot];
    if (offset >= 0) next[slot] = offset + 1;
    acks[i] = { topic: messages[i].topic, partition: partitions[i], offset };
  }
}
