/**
 * kafkajs 2.2.4 groups a `sendBatch`'s messages per partition with an array spread per message
 * (`[...current, message]` in src/producer/groupMessagesPerPartition.js): quadratic in the records
 * per partition of one send, and the largest single cost of producing in our profiles (~15% of
 * the CPU of a stateless stage, plus the garbage it makes). The fix upstream (tulios/kafkajs#1576)
 * was never released, so this module puts a linear version with the same contract into Node's
 * CommonJS module cache BEFORE kafkajs loads its producer, which then binds ours.
 *
 * It must therefore be imported before the first `import … from 'kafkajs'` of the process: every
 * module of this transport imports it first. When kafkajs' producer was already loaded (another
 * module imported kafkajs earlier) the original stays in use; `kafkajsGroupingPatched()` says which.
 */
import { replaceCachedModule, require } from './kafkajs-module-cache.ts';
// Same loader, same timing: the other kafkajs replacements (record encoder and CRC32C, fetch
// decoding, produce request), so importing this one module installs them all.
import './kafkajs-record-encoding.ts';
import './kafkajs-fetch-decoding.ts';
import './kafkajs-produce-encoding.ts';

type Partitioner = (args: { topic: string; partitionMetadata: unknown[]; message: unknown }) => number;

interface GroupArgs {
  topic: string;
  partitionMetadata: unknown[];
  messages: unknown[];
  partitioner: Partitioner;
}

/** Same result as kafkajs' version (partition → messages in their original order), in one pass. */
export function groupMessagesPerPartition({
  topic,
  partitionMetadata,
  messages,
  partitioner,
}: GroupArgs): Record<number, unknown[]> {
  const result: Record<number, unknown[]> = {};
  if (partitionMetadata.length === 0) return result;
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message });
    const list = result[partition];
    if (list) list.push(message);
    else result[partition] = [message];
  }
  return result;
}

function install(): boolean {
  let target: string;
  let sendMessages: string;
  try {
    target = require.resolve('kafkajs/src/producer/groupMessagesPerPartition.js');
    sendMessages = require.resolve('kafkajs/src/producer/sendMessages.js');
  } catch {
    return false;
  }
  const cache = require.cache;
  // Too late: the producer already bound the original.
  if (cache[sendMessages]) return cache[target]?.exports === groupMessagesPerPartition;
  replaceCachedModule(target, groupMessagesPerPartition);
  return true;
}

const installed = install();

/** Whether kafkajs' producer uses the linear grouping in this process. */
export function kafkajsGroupingPatched(): boolean {
  return installed;
}
