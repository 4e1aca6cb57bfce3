/**
 * Helpers for tests on the real broker: each helper that creates a resource (transport, topic,
 * consumer group) also registers its cleanup for the end of the current test.
 */
import { onTestFinished } from 'vitest';
import { loadConfig } from '../../../common/config.ts';
import { SchemaRegistryClient } from '../../../topology/serdes/index.ts';
import { KafkaTransport } from '../../../topology/transport/kafka-transport.ts';
import type { Consumer, IncomingMessage, TopicPartition } from '../../../topology/transport/transport.ts';
import { randomName } from '../../helpers/names.ts';

export function kafkaTransport(): KafkaTransport {
  const transport = new KafkaTransport({ clientId: 'logflow-test' });
  onTestFinished(() => transport.close());
  return transport;
}

export function schemaRegistry(): SchemaRegistryClient {
  return new SchemaRegistryClient({ url: loadConfig().schemaRegistryUrl });
}

/** A fresh topic, deleted when the test finishes. */
export async function createTopic(
  transport: KafkaTransport,
  partitions: number,
  options: { compacted?: boolean; prefix?: string } = {},
): Promise<string> {
  const name = randomName(options.prefix ?? 'lf-test');
  // Tests use fixed event times in the past: without retention.ms=-1 the broker may delete them.
  await transport.ensureTopics([
    {
      name,
      partitions,
      compacted: options.compacted,
      configs: options.compacted ? {} : { 'retention.ms': '-1' },
    },
  ]);
  onTestFinished(async () => {
    const cleanup = new KafkaTransport({ clientId: 'logflow-test-cleanup' });
    await cleanup.deleteTopics([name]).finally(() => cleanup.close());
  });
  return name;
}

/** A consumer-group member that records what it receives and its assignment callbacks. */
export interface RecordingMember {
  consumer: Consumer;
  received: IncomingMessage[];
  assigned: TopicPartition[][];
  revoked: TopicPartition[][];
  owned: Set<string>;
}

export async function startMember(
  transport: KafkaTransport,
  groupId: string,
  topics: string[],
  options: { commit?: boolean; readCommitted?: boolean } = {},
): Promise<RecordingMember> {
  const consumer = transport.consumer({ groupId, readCommitted: options.readCommitted });
  const member: RecordingMember = { consumer, received: [], assigned: [], revoked: [], owned: new Set() };
  onTestFinished(() => consumer.disconnect());
  await consumer.connect();
  await consumer.subscribe(topics);
  await consumer.run({
    eachBatch: async (batch) => {
      member.received.push(...batch.messages);
      if (options.commit) {
        const last = batch.messages[batch.messages.length - 1];
        await consumer.commit([{ topic: batch.topic, partition: batch.partition, offset: last.offset + 1 }]);
      }
    },
    onAssigned: async (partitions) => {
      member.assigned.push(partitions);
      for (const p of partitions) member.owned.add(`${p.topic}:${p.partition}`);
    },
    onRevoked: async (partitions) => {
      member.revoked.push(partitions);
      for (const p of partitions) member.owned.delete(`${p.topic}:${p.partition}`);
    },
  });
  return member;
}

export function groupId(): string {
  return randomName('lf-test-group');
}

/** Every committed record of `topic` (read with a throwaway group until its end offsets). */
export async function readAll(transport: KafkaTransport, topic: string): Promise<IncomingMessage[]> {
  const out: IncomingMessage[] = [];
  const partitions = await transport.partitionCount(topic);
  for (let p = 0; p < partitions; p++) {
    for await (const batch of transport.readPartition(topic, p)) out.push(...batch);
  }
  return out;
}

/** Waits until `group` has committed every record of `topic` (its end offsets). */
export async function waitCaughtUp(
  transport: KafkaTransport,
  group: string,
  topic: string,
  timeoutMs = 120_000,
): Promise<void> {
  const { waitFor } = await import('../../helpers/wait-for.ts');
  await waitFor(
    async () => {
      const ends = await transport.endOffsets(topic);
      const committed = new Map(
        (await transport.committedOffsets(group, topic)).map((c) => [c.partition, c.offset]),
      );
      return ends.every((e) => e.offset === 0 || (committed.get(e.partition) ?? 0) >= e.offset);
    },
    { timeoutMs, what: `group ${group} caught up on ${topic}`, intervalMs: 200 },
  );
}

/** An application id whose internal topics (changelogs, repartitions) are deleted after the test. */
export function applicationId(transport: KafkaTransport, prefix = 'lf-test-app'): string {
  const id = randomName(prefix);
  onTestFinished(async () => {
    const cleanup = new KafkaTransport({ clientId: 'logflow-test-cleanup' });
    try {
      const admin = await cleanup.admin();
      const internal = (await admin.listTopics()).filter((t) => t.startsWith(`${id}-`));
      await cleanup.deleteTopics(internal);
      await cleanup.deleteGroups([id]);
    } finally {
      await cleanup.close();
    }
  });
  void transport;
  return id;
}
