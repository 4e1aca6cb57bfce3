/**
 * Feeds the API's live tail from `logs-parsed` in the distributed mode: a consumer in a group of
 * its own (so every API instance sees every log) that starts at the end of the topic and never
 * commits — a tail shows what arrives while someone watches, not history.
 */
import { randomBytes } from 'node:crypto';
import type { TailHub } from '../api/tail.ts';
import type { ParsedLog } from '../storage/logs/types.ts';
import type { Serde } from '../topology/serde.ts';
import type { Transport } from '../topology/transport/transport.ts';

export async function startTailFeed(
  transport: Transport,
  topic: string,
  serde: Serde<ParsedLog>,
  hub: TailHub,
): Promise<{ stop(): Promise<void> }> {
  const consumer = transport.consumer({
    groupId: `logflow-tail-${randomBytes(4).toString('hex')}`,
    fromBeginning: false,
  });
  await consumer.connect();
  await consumer.subscribe([topic]);
  await consumer.run({
    eachBatch: async (batch) => {
      if (hub.size === 0) return;
      for (const message of batch.messages) {
        try {
          const log = await serde.deserialize(batch.topic, message.value);
          if (log) hub.publish(log);
        } catch {
          // An undecodable record is the parse stage's dead-letter business, not the tail's.
        }
      }
    },
  });
  return { stop: () => consumer.disconnect() };
}
