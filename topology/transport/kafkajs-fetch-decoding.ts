/**
 * kafkajs 2.2.4 decodes every fetched record with BigInt-backed `Long` objects: the batch's first
 * offset and first timestamp are parsed back from decimal strings per record (`Long.fromString`
 * twice), the timestamp delta varint is assembled from a dozen Longs, each record gets its own Decoder,
 * and `Batch` parses every offset string once more to compare it with the fetched offset. Each
 * fetch also ends by constructing (and catching) a `KafkaJSPartialMessageError`, stack trace and
 * all, for the batch the broker cut short. In a stateless stage's profile that was ~11% of the CPU
 * (half of it in Long), plus the garbage the Longs make; decoding here takes ~0.2 µs per record
 * instead of ~1.1 µs.
 *
 * This module puts two replacements into Node's CommonJS module cache BEFORE kafkajs loads them:
 * - fetch/v4/decodeMessages.js (used by every fetch response version from 4 up): well-formed,
 *   uncompressed record batches whose first offset and timestamp are within ±2^52 are decoded
 *   straight from the buffer with plain numbers, and a batch cut short ends the loop without an
 *   Error. Anything else (compressed batches, huge values, malformed bytes, legacy message sets)
 *   goes to kafkajs' own decoder, which then produces its results or its errors.
 * - consumer/batch.js: the same class (same fields, same methods), comparing plain decimal offsets
 *   as numbers instead of building a Long per message.
 *
 * Identical results are the contract: same message objects (offset/timestamp as decimal strings,
 * Buffers over the same bytes, headers, batchContext shared per batch), same errors.
 * test/unit/topology/kafkajs-fetch-decoding.test.ts compares them with the original modules.
 * Imported by kafkajs-linear-grouping.ts, which every transport module imports before kafkajs.
 */
import { replaceCachedModule, require } from './kafkajs-module-cache.ts';
// Its CRC32C replacement must be in place before this module loads kafkajs' record-batch code.
import './kafkajs-record-encoding.ts';

interface DecoderLike {
  buffer: Buffer;
  offset: number;
  readInt32(): number;
  readBytes(length: number): Buffer;
  canReadBytes(length: number): boolean;
}
type DecoderClass = new (buffer: Buffer) => DecoderLike;
type DecodeMessages = (decoder: DecoderLike) => Promise<unknown[]>;

export interface FetchDecodingDeps {
  Decoder: DecoderClass;
  MessageSetDecoder: (decoder: DecoderLike, size: number) => Promise<unknown[]>;
  RecordBatchDecoder: (decoder: DecoderLike) => Promise<{ records: unknown[] }>;
  MAGIC_BYTE: number;
}

// Same constants as kafkajs' decodeMessages.js.
const MAGIC_OFFSET = 16;
const RECORD_BATCH_OVERHEAD = 49;
/** Batch layout from its first offset: int64 offset, int32 length, then the header fields. */
const LENGTH_AT = 8;
const BATCH_START = 12;
const RECORD_COUNT_AT = 57;
const RECORDS_AT = 61;
/** Smallest batch length (after the length field) holding the header and the record count. */
const MIN_BATCH_LENGTH = RECORDS_AT - BATCH_START;
const COMPRESSION_MASK = 0x07;
const TIMESTAMP_TYPE_MASK = 0x08;
const TRANSACTIONAL_MASK = 0x10;
const CONTROL_MASK = 0x20;
const LOG_APPEND_TIME = 1;
const CREATE_TIME = 0;
/** First offsets/timestamps from here on go to kafkajs (base + int32 or 7-byte varlong delta < 2^53). */
const SAFE_BASE = 2 ** 52;
/** The int64's high 32 bits of the first base past SAFE_BASE. */
const SAFE_HIGH = SAFE_BASE / 2 ** 32;
const MAX_FAST_VARLONG_SCALE = 2 ** 42; // 7 bytes of 7 bits: |delta| < 2^48

/** Read position of the helpers below (decoding is synchronous, one batch at a time). */
let at = 0;

/** kafkajs' `Decoder.readVarInt` (same arithmetic, also for odd inputs); NaN if it would read past `limit`. */
function readVarInt(buf: Buffer, limit: number): number {
  let result = 0;
  let shift = 0;
  let byte: number;
  do {
    if (at >= limit) return Number.NaN;
    byte = buf[at++];
    result += (byte & 0x7f) << shift;
    shift += 7;
  } while (byte >= 0x80);
  return (result >>> 1) ^ -(result & 1);
}

/** kafkajs' `Decoder.readVarLong` for up to 7 bytes, as an exact number; NaN when longer or past `limit`. */
function readVarLong(buf: Buffer, limit: number): number {
  let zigzag = 0;
  let scale = 1;
  let byte: number;
  do {
    if (at >= limit || scale > MAX_FAST_VARLONG_SCALE) return Number.NaN;
    byte = buf[at++];
    zigzag += (byte & 0x7f) * scale;
    scale *= 128;
  } while (byte >= 0x80);
  return zigzag % 2 === 0 ? zigzag / 2 : -(zigzag + 1) / 2;
}

/** `Decoder.readVarIntBytes`: null for length -1; undefined when kafkajs would read out of bounds. */
function readBytes(buf: Buffer, limit: number): Buffer | null | undefined {
  const length = readVarInt(buf, limit);
  if (length === -1) return null;
  if (!(length >= 0 && at + length <= limit)) return undefined;
  const bytes = buf.subarray(at, at + length);
  at += length;
  return bytes;
}

/** `Decoder.readVarIntString`, with the same conventions as readBytes. */
function readString(buf: Buffer, limit: number): string | null | undefined {
  const length = readVarInt(buf, limit);
  if (length === -1) return null;
  if (!(length >= 0 && at + length <= limit)) return undefined;
  const text = buf.toString('utf8', at, at + length);
  at += length;
  return text;
}

/** An int64 as a number when its magnitude is below 2^52, otherwise NaN. */
function readSafeInt64(buf: Buffer, position: number): number {
  const high = buf.readInt32BE(position);
  if (high < -SAFE_HIGH || high >= SAFE_HIGH) return Number.NaN;
  return high * 2 ** 32 + buf.readUInt32BE(position + 4);
}

/**
 * Headers merged like kafkajs' reduce (a repeated key becomes an array; the key is looked up through
 * the prototype chain as there, and `__proto__` becomes an own property as with its object spread).
 */
function readHeaders(buf: Buffer, limit: number): Record<string, unknown> | undefined {
  const count = readVarInt(buf, limit);
  if (count === -1) return {};
  // Each header takes at least two bytes; more would make kafkajs read past the record.
  if (!(count >= 0 && count * 2 <= limit - at)) return undefined;
  const headers: Record<string, unknown> = {};
  for (let i = 0; i < count; i++) {
    const key = readString(buf, limit);
    if (key === undefined) return undefined;
    const value = readBytes(buf, limit);
    if (value === undefined) return undefined;
    const name = key === null ? 'null' : key;
    const previous = headers[name];
    const merged =
      previous === undefined ? value : Array.isArray(previous) ? previous.concat([value]) : [previous, value];
    if (name === '__proto__') {
      Object.defineProperty(headers, name, {
        value: merged,
        writable: true,
        enumerable: true,
        configurable: true,
      });
    } else {
      headers[name] = merged;
    }
  }
  return headers;
}

/**
 * The records of the complete batch at `start` (ending at `end`), as kafkajs' recordBatch/v0 decoder
 * returns them; null when the batch needs kafkajs' own decoder.
 */
export function decodeRecordBatch(buf: Buffer, start: number, end: number): unknown[] | null {
  const attributes = buf.readInt16BE(start + 21);
  if ((attributes & COMPRESSION_MASK) !== 0) return null;
  const firstOffsetNumber = readSafeInt64(buf, start);
  const firstTimestampNumber = readSafeInt64(buf, start + 27);
  if (Number.isNaN(firstOffsetNumber) || Number.isNaN(firstTimestampNumber)) return null;
  const count = buf.readInt32BE(start + RECORD_COUNT_AT);
  if (count < 0 || count > end - start - RECORDS_AT) return null;

  const timestampType = (attributes & TIMESTAMP_TYPE_MASK) > 0 ? LOG_APPEND_TIME : CREATE_TIME;
  const maxTimestamp = buf.readBigInt64BE(start + 35).toString();
  const isControlBatch = (attributes & CONTROL_MASK) > 0;
  const magicByte = buf.readInt8(start + 16);
  // Key order as kafkajs' `{ ...recordContext, magicByte }`, one object shared by the batch's records.
  const batchContext = {
    firstOffset: String(firstOffsetNumber),
    firstTimestamp: String(firstTimestampNumber),
    partitionLeaderEpoch: buf.readInt32BE(start + BATCH_START),
    inTransaction: (attributes & TRANSACTIONAL_MASK) > 0,
    isControlBatch,
    lastOffsetDelta: buf.readInt32BE(start + 23),
    producerId: buf.readBigInt64BE(start + 43).toString(),
    producerEpoch: buf.readInt16BE(start + 51),
    firstSequence: buf.readInt32BE(start + 53),
    maxTimestamp,
    timestampType,
    magicByte,
  };
  // kafkajs: LOG_APPEND_TIME and a (always non-empty, so truthy) maxTimestamp string.
  const appendTime = timestampType === LOG_APPEND_TIME;

  const records = new Array(count);
  at = start + RECORDS_AT;
  for (let i = 0; i < count; i++) {
    const length = readVarInt(buf, end);
    if (!(length >= 0 && at + length <= end)) return null;
    const recordEnd = at + length;
    if (at >= recordEnd) return null;
    const recordAttributes = (buf[at++] << 24) >> 24;
    const timestampDelta = readVarLong(buf, recordEnd);
    if (Number.isNaN(timestampDelta)) return null;
    const offsetDelta = readVarInt(buf, recordEnd);
    if (Number.isNaN(offsetDelta)) return null;
    const key = readBytes(buf, recordEnd);
    if (key === undefined) return null;
    const value = readBytes(buf, recordEnd);
    if (value === undefined) return null;
    const headers = readHeaders(buf, recordEnd);
    if (headers === undefined) return null;
    records[i] = {
      magicByte,
      attributes: recordAttributes,
      timestamp: appendTime ? maxTimestamp : String(firstTimestampNumber + timestampDelta),
      offset: String(firstOffsetNumber + offsetDelta),
      key,
      value,
      headers,
      isControlRecord: isControlBatch,
      batchContext,
    };
    at = recordEnd; // kafkajs ignores bytes after a record's headers
  }
  return records;
}

/** kafkajs' decodeMessages with the fast batch decoder and no Error for the batch cut short. */
export function createDecodeMessages({
  Decoder,
  MessageSetDecoder,
  RecordBatchDecoder,
  MAGIC_BYTE,
}: FetchDecodingDeps): DecodeMessages {
  return async function decodeMessages(decoder: DecoderLike): Promise<unknown[]> {
    const messagesSize = decoder.readInt32();
    if (messagesSize <= 0 || !decoder.canReadBytes(messagesSize)) return [];

    const messagesBuffer = decoder.readBytes(messagesSize);
    const messagesDecoder = new Decoder(messagesBuffer);
    const magicByte = messagesBuffer.subarray(MAGIC_OFFSET).readInt8(0);
    if (magicByte !== MAGIC_BYTE) return MessageSetDecoder(messagesDecoder, messagesSize);

    const records: unknown[] = [];
    while (messagesDecoder.canReadBytes(RECORD_BATCH_OVERHEAD)) {
      const start = messagesDecoder.offset;
      if (start >= 0) {
        const length = messagesBuffer.readInt32BE(start + LENGTH_AT);
        // kafkajs throws a KafkaJSPartialMessageError here and catches it below to stop.
        if (length >= 0 && messagesBuffer.length - (start + BATCH_START) < length) break;
        const end = start + BATCH_START + length;
        const batch = length >= MIN_BATCH_LENGTH ? decodeRecordBatch(messagesBuffer, start, end) : null;
        if (batch !== null) {
          messagesDecoder.offset = end;
          records.push(...batch);
          continue;
        }
      }
      try {
        const recordBatch = await RecordBatchDecoder(messagesDecoder);
        records.push(...recordBatch.records);
      } catch (e) {
        if ((e as Error).name === 'KafkaJSPartialMessageError') break;
        throw e;
      }
    }
    return records;
  };
}

interface LongLike {
  value: bigint;
  gte(other: LongLike): boolean;
}
interface LongClass {
  fromValue(value: unknown): LongLike;
}
interface Message {
  offset: unknown;
  isControlRecord?: boolean;
}
interface PartitionData {
  partition: number;
  highWatermark: string;
  abortedTransactions?: unknown[];
  messages: Message[];
}
type FilterAborted = (args: { messages: Message[]; abortedTransactions?: unknown[] }) => Message[];
type BatchClass = new (topic: string, fetchedOffset: unknown, partitionData: PartitionData) => object;

/** A decimal string of at most 15 digits (optionally negative) as a number; NaN for anything else. */
function plainDecimal(text: string): number {
  const negative = text.charCodeAt(0) === 45; // '-'
  const first = negative ? 1 : 0;
  const length = text.length;
  if (length <= first || length - first > 15) return Number.NaN;
  let value = 0;
  for (let i = first; i < length; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return Number.NaN;
    value = value * 10 + digit;
  }
  return negative ? -value : value;
}

/** `Long.fromValue(message.offset).gte(fetched)` for every message, with numbers where exact. */
function withinOffset(messages: Message[], fetched: LongLike, Long: LongClass): Message[] {
  const fetchedValue = fetched.value;
  const fetchedNumber = Number(fetchedValue);
  const fetchedIsSafe = Number.isSafeInteger(fetchedNumber) && BigInt(fetchedNumber) === fetchedValue;
  return messages.filter((message) => {
    const offset = message.offset;
    if (typeof offset === 'string') {
      const number = plainDecimal(offset);
      if (!Number.isNaN(number))
        return fetchedIsSafe ? number >= fetchedNumber : BigInt(number) >= fetchedValue;
    }
    return Long.fromValue(offset).gte(fetched);
  });
}

/** kafkajs' consumer Batch with the per-message offset comparison done on numbers; same methods. */
export function createBatchClass(
  Original: BatchClass,
  Long: LongClass,
  filterAborted: FilterAborted,
): BatchClass {
  class Batch {
    declare fetchedOffset: unknown;
    declare topic: string;
    declare partition: number;
    declare highWatermark: string;
    declare rawMessages: Message[];
    declare messagesWithinOffset: Message[];
    declare messages: Message[];

    constructor(topic: string, fetchedOffset: unknown, partitionData: PartitionData) {
      // Same fields, in the same order, with the same checks as kafkajs' constructor.
      this.fetchedOffset = fetchedOffset;
      const longFetchedOffset = Long.fromValue(this.fetchedOffset);
      const { abortedTransactions, messages } = partitionData;
      this.topic = topic;
      this.partition = partitionData.partition;
      this.highWatermark = partitionData.highWatermark;
      this.rawMessages = messages;
      this.messagesWithinOffset = withinOffset(this.rawMessages, longFetchedOffset, Long);
      this.messages = filterAborted({ messages: this.messagesWithinOffset, abortedTransactions }).filter(
        (message) => !message.isControlRecord,
      );
    }
  }
  for (const name of Object.getOwnPropertyNames(Original.prototype)) {
    if (name === 'constructor') continue;
    Object.defineProperty(
      Batch.prototype,
      name,
      Object.getOwnPropertyDescriptor(Original.prototype, name) as PropertyDescriptor,
    );
  }
  return Batch;
}

const FETCH = 'kafkajs/src/protocol/requests/fetch';
/** The fetch responses that bind decodeMessages (v6, v9 and v10 reuse these). */
const DECODE_MESSAGES_IMPORTERS = ['v4', 'v5', 'v7', 'v8', 'v11'].map((v) => `${FETCH}/${v}/response.js`);

interface Installed {
  decodeMessages: boolean;
  batch: boolean;
}

function install(): Installed {
  let decodePath: string;
  let decodeImporters: string[];
  let batchPath: string;
  let consumerGroupPath: string;
  try {
    decodePath = require.resolve(`${FETCH}/v4/decodeMessages.js`);
    decodeImporters = DECODE_MESSAGES_IMPORTERS.map((request) => require.resolve(request));
    batchPath = require.resolve('kafkajs/src/consumer/batch.js');
    consumerGroupPath = require.resolve('kafkajs/src/consumer/consumerGroup.js');
  } catch {
    return { decodeMessages: false, batch: false };
  }
  const cache = require.cache;
  let decodeMessages = cache[decodePath]?.exports?.isLogflowFetchDecoder === true;
  // Too late when kafkajs already loaded the original or a response that binds it.
  if (!cache[decodePath] && decodeImporters.every((path) => !cache[path])) {
    const deps: FetchDecodingDeps = {
      Decoder: require('kafkajs/src/protocol/decoder.js'),
      MessageSetDecoder: require('kafkajs/src/protocol/messageSet/decoder.js'),
      RecordBatchDecoder: require('kafkajs/src/protocol/recordBatch/v0/decoder.js'),
      MAGIC_BYTE: require('kafkajs/src/protocol/recordBatch/v0/index.js').MAGIC_BYTE,
    };
    replaceCachedModule(
      decodePath,
      Object.assign(createDecodeMessages(deps), { isLogflowFetchDecoder: true }),
    );
    decodeMessages = true;
  }
  let batch = cache[batchPath]?.exports?.isLogflowBatch === true;
  if (!cache[batchPath] && !cache[consumerGroupPath]) {
    const Original = require(batchPath) as BatchClass;
    const Long = require('kafkajs/src/utils/long.js') as LongClass;
    const filterAborted = require('kafkajs/src/consumer/filterAbortedMessages.js') as FilterAborted;
    replaceCachedModule(
      batchPath,
      Object.assign(createBatchClass(Original, Long, filterAborted), { isLogflowBatch: true }),
    );
    batch = true;
  }
  return { decodeMessages, batch };
}

const installed = install();

/** Whether kafkajs' fetch responses and consumer use these replacements in this process. */
export function kafkajsFetchDecodingPatched(): Installed {
  return installed;
}
