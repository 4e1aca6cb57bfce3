/**
 * kafkajs 2.2.4 encodes each produced record (src/protocol/recordBatch/record/v0) into a fresh
 * zero-filled 512-byte Encoder, one `Buffer.from([...])` per varint, `Long` arithmetic for the
 * timestamp delta and one more Encoder per header: the largest per-record cost of producing in
 * our profiles (~35% of a stateless stage's CPU). This module puts an encoder with the same
 * output into Node's CommonJS module cache BEFORE kafkajs loads its produce request, which then
 * binds ours: it computes the record's exact size, allocates it once (from Node's buffer pool)
 * and writes the varints directly. The batch CRC32C (a byte-at-a-time table loop) is replaced by
 * a slice-by-8 version of the same checksum.
 *
 * Byte-for-byte equality with kafkajs is the contract (test/unit/topology/kafkajs-record-encoding
 * .test.ts compares random batches): anything outside the common shapes (keys/values/header
 * values that are not strings or Buffers, non-integer or huge deltas) goes to kafkajs' own code.
 * Imported first by kafkajs-linear-grouping.ts, which every transport module imports before kafkajs.
 */
import { replaceCachedModule, require } from './kafkajs-module-cache.ts';

interface EncoderLike {
  buf: Buffer;
  offset: number;
}
type RecordArgs = {
  offsetDelta?: number;
  timestampDelta?: number;
  key?: unknown;
  value?: unknown;
  headers?: unknown;
};
type RecordFn = (args: RecordArgs) => EncoderLike;

const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;
/** Zigzag of a safe integer below this stays exact in a double (< 2^52). */
const VARLONG_FAST_LIMIT = 2 ** 50;

/** Bytes of the zigzag varint of an int32 (kafkajs `Encoder.sizeOfVarInt`). */
function sizeOfVarInt(value: number): number {
  let zz = ((value << 1) ^ (value >> 31)) >>> 0;
  let bytes = 1;
  while (zz > 0x7f) {
    bytes++;
    zz >>>= 7;
  }
  return bytes;
}

function writeVarInt(buf: Buffer, offset: number, value: number): number {
  let zz = ((value << 1) ^ (value >> 31)) >>> 0;
  while (zz > 0x7f) {
    buf[offset++] = (zz & 0x7f) | 0x80;
    zz >>>= 7;
  }
  buf[offset++] = zz;
  return offset;
}

/** Zigzag of a safe integer of magnitude < 2^50, as an exact double. */
function zigzag64(value: number): number {
  return value >= 0 ? value * 2 : -value * 2 - 1;
}

function sizeOfVarLong(value: number): number {
  let zz = zigzag64(value);
  let bytes = 1;
  while (zz > 0x7f) {
    bytes++;
    zz = Math.floor(zz / 128);
  }
  return bytes;
}

function writeVarLong(buf: Buffer, offset: number, value: number): number {
  let zz = zigzag64(value);
  while (zz > 0x7f) {
    buf[offset++] = (zz % 128) | 0x80;
    zz = Math.floor(zz / 128);
  }
  buf[offset++] = zz;
  return offset;
}

/** Byte length of a key/value/header value, -1 for null (record key/value only), or NaN if unsupported. */
function bytesLength(value: unknown, nullable: boolean): number {
  if (typeof value === 'string') return Buffer.byteLength(value, 'utf8');
  if (Buffer.isBuffer(value)) return value.length;
  if (nullable && value == null) return -1;
  return Number.NaN;
}

function writeBytes(buf: Buffer, offset: number, value: unknown, length: number): number {
  let at = writeVarInt(buf, offset, length);
  if (length <= 0) return at;
  if (typeof value === 'string') buf.write(value, at, length, 'utf8');
  else (value as Buffer).copy(buf, at, 0, length);
  at += length;
  return at;
}

/** Flattened headers ({k: v} and {k: [v1, v2]} → [k, v, k, v…]) with their lengths, or null if unsupported. */
function flattenHeaders(headers: unknown): { pairs: unknown[]; lengths: number[] } | null {
  if (headers === undefined) return { pairs: [], lengths: [] };
  if (headers === null || typeof headers !== 'object' || Array.isArray(headers)) return null;
  const pairs: unknown[] = [];
  const lengths: number[] = [];
  const record = headers as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    const raw = record[key];
    const values = Array.isArray(raw) ? raw : [raw];
    const keyLength = Buffer.byteLength(key, 'utf8');
    for (const value of values) {
      const valueLength = bytesLength(value, false);
      if (Number.isNaN(valueLength)) return null;
      pairs.push(key, value);
      lengths.push(keyLength, valueLength);
    }
  }
  return { pairs, lengths };
}

/** Builds the replacement for kafkajs' record/v0 encoder; `original` handles the unusual shapes. */
export function createRecordEncoder(encoderPrototype: object, original: RecordFn): RecordFn {
  return function Record(args: RecordArgs): EncoderLike {
    const { offsetDelta = 0, timestampDelta = 0, key, value, headers } = args;
    if (
      typeof offsetDelta !== 'number' ||
      (offsetDelta | 0) !== offsetDelta ||
      typeof timestampDelta !== 'number' ||
      !Number.isSafeInteger(timestampDelta) ||
      Math.abs(timestampDelta) >= VARLONG_FAST_LIMIT
    ) {
      return original(args);
    }
    const keyLength = bytesLength(key, true);
    const valueLength = bytesLength(value, true);
    const flat = flattenHeaders(headers);
    if (Number.isNaN(keyLength) || Number.isNaN(valueLength) || flat === null) return original(args);

    const headerCount = flat.lengths.length / 2;
    let body =
      1 +
      sizeOfVarLong(timestampDelta) +
      sizeOfVarInt(offsetDelta) +
      sizeOfVarInt(keyLength) +
      Math.max(keyLength, 0) +
      sizeOfVarInt(valueLength) +
      Math.max(valueLength, 0) +
      sizeOfVarInt(headerCount);
    for (const length of flat.lengths) body += sizeOfVarInt(length) + length;
    if (body > INT32_MAX || body < INT32_MIN) return original(args);

    const total = sizeOfVarInt(body) + body;
    const buf = Buffer.allocUnsafe(total);
    let at = writeVarInt(buf, 0, body);
    buf[at++] = 0; // attributes: none used per record
    at = writeVarLong(buf, at, timestampDelta);
    at = writeVarInt(buf, at, offsetDelta);
    at = writeBytes(buf, at, key, keyLength);
    at = writeBytes(buf, at, value, valueLength);
    at = writeVarInt(buf, at, headerCount);
    for (let i = 0; i < flat.pairs.length; i++) at = writeBytes(buf, at, flat.pairs[i], flat.lengths[i]);
    if (at !== total) throw new Error(`record encoding size mismatch: wrote ${at} of ${total} bytes`);

    const encoder = Object.create(encoderPrototype) as EncoderLike;
    encoder.buf = buf;
    encoder.offset = total;
    return encoder;
  };
}

/** CRC32C (Castagnoli) tables for slice-by-8: TABLES[k][b] is the CRC of byte b followed by k zeros. */
const TABLES: Int32Array[] = (() => {
  const tables = Array.from({ length: 8 }, () => new Int32Array(256));
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    tables[0][n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = tables[0][n];
    for (let k = 1; k < 8; k++) {
      c = tables[0][c & 0xff] ^ (c >>> 8);
      tables[k][n] = c;
    }
  }
  return tables;
})();

/** CRC32C of `buffer` as an unsigned 32-bit number (same as kafkajs' crc32C/crc32C.js). */
export function crc32c(buffer: Uint8Array): number {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = TABLES;
  let crc = -1;
  let i = 0;
  const end8 = buffer.length - (buffer.length % 8);
  while (i < end8) {
    const a = crc ^ (buffer[i] | (buffer[i + 1] << 8) | (buffer[i + 2] << 16) | (buffer[i + 3] << 24));
    crc =
      t7[a & 0xff] ^
      t6[(a >>> 8) & 0xff] ^
      t5[(a >>> 16) & 0xff] ^
      t4[a >>> 24] ^
      t3[buffer[i + 4]] ^
      t2[buffer[i + 5]] ^
      t1[buffer[i + 6]] ^
      t0[buffer[i + 7]];
    i += 8;
  }
  for (; i < buffer.length; i++) crc = t0[(crc ^ buffer[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}

interface Installed {
  record: boolean;
  crc: boolean;
}

function install(): Installed {
  let recordPath: string;
  let producePath: string;
  let crcPath: string;
  let batchPath: string;
  let decodePath: string;
  try {
    recordPath = require.resolve('kafkajs/src/protocol/recordBatch/record/v0/index.js');
    producePath = require.resolve('kafkajs/src/protocol/requests/produce/v3/request.js');
    crcPath = require.resolve('kafkajs/src/protocol/recordBatch/crc32C/crc32C.js');
    batchPath = require.resolve('kafkajs/src/protocol/recordBatch/v0/index.js');
    decodePath = require.resolve('kafkajs/src/protocol/requests/fetch/v4/decodeMessages.js');
  } catch {
    return { record: false, crc: false };
  }
  const cache = require.cache;
  let record = cache[recordPath]?.exports?.isLogflowRecordEncoder === true;
  // Too late when the produce request already bound the original.
  if (!cache[producePath]) {
    const original = require(recordPath) as RecordFn;
    const Encoder = require('kafkajs/src/protocol/encoder.js') as { prototype: object };
    const replacement = Object.assign(createRecordEncoder(Encoder.prototype, original), {
      isLogflowRecordEncoder: true,
    });
    replaceCachedModule(recordPath, replacement);
    record = true;
  }
  let crc = cache[crcPath]?.exports === crc32c;
  const crcIndex = require.resolve('kafkajs/src/protocol/recordBatch/crc32C/index.js');
  if (!cache[crcIndex] && !cache[batchPath] && !cache[decodePath]) {
    replaceCachedModule(crcPath, crc32c);
    crc = true;
  }
  return { record, crc };
}

const installed = install();

/** Whether kafkajs' produce request uses this record encoder and CRC32C in this process. */
export function kafkajsRecordEncodingPatched(): Installed {
  return installed;
}
