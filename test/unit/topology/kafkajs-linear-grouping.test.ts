import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
// Imported before kafkajs, as the transport does.
import {
  groupMessagesPerPartition,
  kafkajsGroupingPatched,
} from '../../../topology/transport/kafkajs-linear-grouping.ts';
import '../../../topology/transport/kafka-transport.ts';

const require = createRequire(import.meta.url);

describe('kafkajs linear per-partition grouping', () => {
  it('groups like kafkajs: per partition, original order kept', () => {
    const messages = Array.from({ length: 50 }, (_, i) => ({ key: `k${i % 7}`, value: String(i) }));
    const partitioner = ({ message }: { message: unknown }) =>
      Number((message as { key: string }).key.slice(1)) % 3;
    const grouped = groupMessagesPerPartition({ topic: 't', partitionMetadata: [{}], messages, partitioner });
    expect(Object.keys(grouped).sort()).toEqual(['0', '1', '2']);
    for (const [partition, list] of Object.entries(grouped)) {
      const expected = messages.filter((m) => partitioner({ message: m }) === Number(partition));
      expect(list).toEqual(expected);
    }
    expect(groupMessagesPerPartition({ topic: 't', partitionMetadata: [], messages, partitioner })).toEqual(
      {},
    );
  });

  it('is the grouping kafkajs producer binds in this process', () => {
    expect(kafkajsGroupingPatched()).toBe(true);
    const loaded = require.cache[require.resolve('kafkajs/src/producer/groupMessagesPerPartition.js')];
    expect(loaded?.exports).toBe(groupMessagesPerPartition);
    expect(require.cache[require.resolve('kafkajs/src/producer/sendMessages.js')]).toBeDefined();
  });
});
