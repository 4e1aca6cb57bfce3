/**
 * kafkajs 2.2.4 encodes a produce request (src/protocol/requests/produce/v3/request.js, which
 * v4–v7 reuse) partition by partition: it maps, filters and string-sorts every message's timestamp
 * just to find the first and the last, spreads every message into a new object before encoding
 * it, and then builds each record batch (src/protocol/recordBatch/v0) from nested Encoders, each
 * copying the bytes of the previous one into a fresh zero-filled buffer, with an `await` per
 * partition and per topic. That was the largest single self-time of a stateless stage (~10%).
 *
 * This module puts a request with the same output into Node's CommonJS module cache BEFORE kafkajs
 * loads it: one pass over the timestamps, the records encoded by the record encoder kafkajs binds
 * (ours from kafkajs-record-encoding.ts), and the whole request written once into a buffer of its
 * exact size, each batch's CRC32C computed in place. Compressed batches go to kafkajs' own code.
 *
 * Byte-for-byte equality with kafkajs is the contract (test/unit/topology/kafkajs-produce-encoding
 * .test.ts compares random requests with a private copy of the original module graph).
 * Imported by kafkajs-linear-grouping.ts, which every transport module imports before kafkajs.
 */
import { replaceCachedModule, require } from './kafkajs-module-cache.ts';
// Evaluated first: it installs the record encoder we bind below, and its own install check looks
// for the produce request in the module cache, which this module fills.
import { crc32c } from './kafkajs-record-encoding.ts';

interface EncoderLike {
  buf: Buffer;
  offset: number;
}
interface LongLike {
  getHighBits(): number;
  getLowBits(): number;
}
interface KafkajsLong {
  fromInt(value: number): unknown;
  fromValue(value: unknown): LongLike;
}
type RecordFn = (args: Record<string, unknown>) => EncoderLike;

interface Message {
  timestamp?: unknown;
  key?: unknown;
  value?: unknown;
  headers?: unknown;
}
interface PartitionData {
  partition: number;
  messages: Message[];
  firstSequence?: number;
}
interface TopicData {
  topic: string;
  partitions: Iterable<PartitionData>;
}
export interface ProduceArgs {
  acks: number;
  timeout: number;
  transactionalId?: string | null;
  producerId?: unknown;
  producerEpoch?: number;
  compression?: number;
  topicData: Iterable<TopicData>;
}
export interface ProduceRequest {
  apiKey: number;
  apiVersion: number;
  apiName: string;
  expectResponse: () => boolean;
  encode: () => Promise<EncoderLike>;
}
type ProduceFn = (args: ProduceArgs) => ProduceRequest;

export interface ProduceDeps {
  /** kafkajs' own request module: used for compressed batches. */
  original: ProduceFn;
  record: RecordFn;
  encoderPrototype: object;
  Long: KafkajsLong;
  apiKey: number;
  compressionNone: number;
}

const MAGIC_BYTE = 2;
const TRANSACTIONAL_MASK = 16;
/** attributes, lastOffsetDelta, first/max timestamp, producerId, producerEpoch, firstSequence, record count. */
const BATCH_BODY_HEADER = 2 + 4 + 8 + 8 + 8 + 2 + 4 + 4;
/** partitionLeaderEpoch, magic, CRC. */
const BATCH_HEADER = 4 + 1 + 4;
/** firstOffset, then the batch as int32-length-prefixed bytes. */
const RECORD_BATCH_HEADER = 8 + 4;
const TWO_POW_32 = 2 ** 32;

/** A value as kafkajs' `writeInt64` writes it: high then low 32 bits. */
interface Int64 {
  high: number;
  low: number;
}

/** One partition's batch, encoded records in hand, before it is written. */
interface PartitionBatch {
  partition: number;
  firstSequence: unknown;
  firstTimestamp: Int64;
  maxTimestamp: Int64;
  records: EncoderLike[];
  recordBytes: number;
}

/** A topic and its partitions, with the length of its name in bytes (-1 for null, like writeString). */
interface TopicBatches {
  topic: string;
  topicLength: number;
  partitions: PartitionBatch[];
}

/** Bytes of kafkajs' `writeString` value (nullable int16-length string), -1 meaning null. */
function stringLength(value: unknown): number {
  return value == null ? -1 : Buffer.byteLength(value as string, 'utf8');
}

function writeString(buf: Buffer, at: number, value: unknown, length: number): number {
  buf.writeInt16BE(length, at);
  if (length > 0) buf.write(value as string, at + 2, length, 'utf8');
  return at + 2 + Math.max(length, 0);
}

/**
 * Finds what kafkajs computes as `timestamps.filter(t => t != null).sort()` then `[0]` and
 * `[length - 1]`, without sorting. Default `.sort()` compares the values as STRINGS, so with
 * timestamps of different digit counts kafkajs' "first" and "max" timestamps are not the numeric
 * minimum and maximum ('999' sorts after '1000'): we reproduce that on purpose, since the bytes
 * must match. The sort is stable, so among values with the same string form the first is the
 * earliest in the input and the max the latest. Returns null for timestamps other than strings and
 * numbers, which the caller sorts exactly like kafkajs (their string forms are not ours to guess).
 */
function timestampBounds(messages: Message[]): { first: unknown; max: unknown; count: number } | null {
  let first: unknown;
  let max: unknown;
  let firstKey = '';
  let maxKey = '';
  let count = 0;
  for (let i = 0; i < messages.length; i++) {
    const ts = messages[i].timestamp;
    if (ts == null) continue;
    let key: string;
    if (typeof ts === 'string') key = ts;
    else if (typeof ts === 'number') key = String(ts);
    else return null;
    if (count === 0) {
      first = max = ts;
      firstKey = maxKey = key;
    } else {
      if (key < firstKey) {
        first = ts;
        firstKey = key;
      }
      if (key >= maxKey) {
        max = ts;
        maxKey = key;
      }
    }
    count++;
  }
  return { first, max, count };
}

/** Builds the replacement for kafkajs' produce request v3 from the modules it would bind. */
export function createProduceRequest(deps: ProduceDeps): ProduceFn {
  const { original, record, encoderPrototype, Long, apiKey, compressionNone } = deps;

  /**
   * kafkajs' `writeInt64` conversion (via its Long, which throws for what BigInt refuses) without
   * the BigInt detour for safe integers. Done where kafkajs does it, right after the partition's
   * records, so that a request kafkajs refuses fails with the same error.
   */
  function toInt64(value: unknown): Int64 {
    if (typeof value === 'number' && Number.isSafeInteger(value)) {
      const high = Math.floor(value / TWO_POW_32);
      return { high, low: (value - high * TWO_POW_32) | 0 };
    }
    const long = Long.fromValue(value);
    return { high: long.getHighBits(), low: long.getLowBits() };
  }

  /** kafkajs' partitionsEncoder up to the record batch: the timestamps and the encoded records. */
  function encodePartition(data: PartitionData): PartitionBatch {
    const { partition, messages, firstSequence } = data;
    let bounds = timestampBounds(messages);
    const primitives = bounds !== null;
    if (bounds === null) {
      // Unusual timestamp types: kafkajs' own expression, string sort and all.
      const sorted = messages
        .map((m) => m.timestamp)
        .filter((t) => t != null)
        .sort();
      bounds = { first: sorted[0], max: sorted[sorted.length - 1], count: sorted.length };
    }
    // kafkajs reads the clock once per partition; we only when a message needs it (no or falsy timestamp).
    let dateNow: number | undefined;
    let firstTimestamp = bounds.first;
    let maxTimestamp = bounds.max;
    if (bounds.count === 0) {
      dateNow = Date.now();
      firstTimestamp = maxTimestamp = dateNow;
    }
    // For strings and numbers `a - b` is `Number(a) - Number(b)`: the first timestamp is parsed once, not per record.
    const firstNumber = primitives ? Number(firstTimestamp) : Number.NaN;
    const records: EncoderLike[] = new Array(messages.length);
    let recordBytes = 0;
    for (let i = 0; i < messages.length; i++) {
      const message = messages[i];
      let ts = message.timestamp;
      if (!ts) {
        if (dateNow === undefined) dateNow = Date.now();
        ts = dateNow;
      }
      // kafkajs' exact expression: `(message.timestamp || dateNow) - firstTimestamp`, strings coerced.
      const timestampDelta = primitives
        ? Number(ts) - firstNumber
        : (ts as number) - (firstTimestamp as number);
      const proto = Object.getPrototypeOf(message);
      // kafkajs passes `{ ...message, offsetDelta, timestampDelta }`; the record reads only these
      // fields, which for a plain object are its own (enumerable) ones. Anything else is spread as kafkajs does.
      const encoded = record(
        proto === Object.prototype || proto === null
          ? {
              offsetDelta: i,
              timestampDelta,
              key: message.key,
              value: message.value,
              headers: message.headers,
            }
          : { ...message, offsetDelta: i, timestampDelta },
      );
      records[i] = encoded;
      recordBytes += encoded.offset;
    }
    return {
      partition,
      firstSequence,
      firstTimestamp: toInt64(firstTimestamp),
      maxTimestamp: toInt64(maxTimestamp),
      records,
      recordBytes,
    };
  }

  function encodeRequest(
    acks: number,
    timeout: number,
    transactionalId: string | null,
    producerId: unknown,
    producerEpoch: number,
    topicData: Iterable<TopicData>,
  ): EncoderLike {
    const topics: TopicBatches[] = [];
    let producerIdBits: Int64 | undefined;
    const transactionalIdLength = stringLength(transactionalId);
    let total = 2 + Math.max(transactionalIdLength, 0) + 2 + 4 + 4;
    for (const { topic, partitions } of topicData) {
      const topicLength = stringLength(topic);
      const batches: PartitionBatch[] = [];
      total += 2 + Math.max(topicLength, 0) + 4;
      for (const data of partitions) {
        const batch = encodePartition(data);
        producerIdBits ??= toInt64(producerId);
        batches.push(batch);
        total += 4 + 4 + RECORD_BATCH_HEADER + BATCH_HEADER + BATCH_BODY_HEADER + batch.recordBytes;
      }
      topics.push({ topic, topicLength, partitions: batches });
    }

    const attributes = transactionalId ? TRANSACTIONAL_MASK : 0; // compression None
    const buf = Buffer.allocUnsafe(total);
    let at = writeString(buf, 0, transactionalId, transactionalIdLength);
    buf.writeInt16BE(acks, at);
    buf.writeInt32BE(timeout, at + 2);
    buf.writeInt32BE(topics.length, at + 6);
    at += 10;
    for (const { topic, topicLength, partitions } of topics) {
      at = writeString(buf, at, topic, topicLength);
      buf.writeInt32BE(partitions.length, at);
      at += 4;
      for (const batch of partitions) {
        const bodyLength = BATCH_BODY_HEADER + batch.recordBytes;
        const batchLength = BATCH_HEADER + bodyLength;
        buf.writeInt32BE(batch.partition, at);
        buf.writeInt32BE(RECORD_BATCH_HEADER + batchLength, at + 4);
        buf.fill(0, at + 8, at + 16); // firstOffset 0
        buf.writeInt32BE(batchLength, at + 16);
        buf.writeInt32BE(0, at + 20); // partitionLeaderEpoch
        buf.writeInt8(MAGIC_BYTE, at + 24);
        const crcAt = at + 25;
        const bodyStart = at + 29;
        at = bodyStart;
        buf.writeInt16BE(attributes, at);
        buf.writeInt32BE(batch.records.length - 1, at + 2); // lastOffsetDelta
        buf.writeInt32BE(batch.firstTimestamp.high, at + 6);
        buf.writeInt32BE(batch.firstTimestamp.low, at + 10);
        buf.writeInt32BE(batch.maxTimestamp.high, at + 14);
        buf.writeInt32BE(batch.maxTimestamp.low, at + 18);
        buf.writeInt32BE((producerIdBits as Int64).high, at + 22);
        buf.writeInt32BE((producerIdBits as Int64).low, at + 26);
        buf.writeInt16BE(producerEpoch === undefined ? 0 : producerEpoch, at + 30);
        buf.writeInt32BE((batch.firstSequence === undefined ? 0 : batch.firstSequence) as number, at + 32);
        buf.writeInt32BE(batch.records.length, at + 36);
        at += BATCH_BODY_HEADER;
        for (const encoded of batch.records) {
          encoded.buf.copy(buf, at, 0, encoded.offset);
          at += encoded.offset;
        }
        buf.writeUInt32BE(crc32c(buf.subarray(bodyStart, at)), crcAt);
      }
    }
    if (at !== total) throw new Error(`produce request size mismatch: wrote ${at} of ${total} bytes`);
    const encoder = Object.create(encoderPrototype) as EncoderLike;
    encoder.buf = buf;
    encoder.offset = total;
    return encoder;
  }

  return function produceRequest(args: ProduceArgs): ProduceRequest {
    const {
      acks,
      timeout,
      transactionalId = null,
      producerId = Long.fromInt(-1),
      producerEpoch = 0,
      compression = compressionNone,
      topicData,
    } = args;
    if (compression !== compressionNone) return original(args);
    return {
      apiKey,
      apiVersion: 3,
      apiName: 'Produce',
      expectResponse: () => acks !== 0,
      encode: async () => encodeRequest(acks, timeout, transactionalId, producerId, producerEpoch, topicData),
    };
  };
}

function install(): boolean {
  let producePath: string;
  try {
    producePath = require.resolve('kafkajs/src/protocol/requests/produce/v3/request.js');
  } catch {
    return false;
  }
  const cache = require.cache;
  // Too late when kafkajs already loaded its produce request (its versions bind it on first use).
  if (cache[producePath]) return cache[producePath]?.exports?.isLogflowProduceEncoder === true;
  // kafkajs' module, loaded now so it binds the record encoder and CRC already in the cache.
  const original = require(producePath) as ProduceFn;
  // Through the cache: kafkajs-record-encoding.ts's replacement when it is installed.
  const record = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as RecordFn;
  const replacement = Object.assign(
    createProduceRequest({
      original,
      record,
      encoderPrototype: (require('kafkajs/src/protocol/encoder.js') as { prototype: object }).prototype,
      Long: require('kafkajs/src/utils/long.js') as KafkajsLong,
      apiKey: (require('kafkajs/src/protocol/requests/apiKeys.js') as { Produce: number }).Produce,
      compressionNone: (
        require('kafkajs/src/protocol/message/compression/index.js') as { Types: { None: number } }
      ).Types.None,
    }),
    // The record encoder it binds, for the test that both replacements are in use together.
    { isLogflowProduceEncoder: true, recordEncoder: record },
  );
  replaceCachedModule(producePath, replacement);
  return true;
}

const installed = install();

/** Whether kafkajs' produce requests (v3–v7) use this encoder in this process. */
export function kafkajsProduceEncodingPatched(): boolean {
  return installed;
}
