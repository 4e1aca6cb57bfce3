import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
// Imported before kafkajs, as the transport does.
import {
  decodeRecordBatch,
  kafkajsFetchDecodingPatched,
} from '../../../topology/transport/kafkajs-fetch-decoding.ts';
import { crc32c } from '../../../topology/transport/kafkajs-record-encoding.ts';
import '../../../topology/transport/kafka-transport.ts';
import { loadKafkajsOriginal } from '../../helpers/kafkajs-original.ts';
import { seededRandom } from '../../helpers/seeded-random.ts';

const require = createRequire(import.meta.url);

type DecoderInstance = { offset: number };
type DecodeMessages = (decoder: DecoderInstance) => Promise<unknown[]>;
type BatchInstance = Record<string, () => unknown>;
type BatchClass = new (topic: string, fetchedOffset: unknown, partitionData: unknown) => BatchInstance;

const DECODE_MESSAGES = 'kafkajs/src/protocol/requests/fetch/v4/decodeMessages.js';
const BATCH = 'kafkajs/src/consumer/batch.js';
const originalDecodeMessages = loadKafkajsOriginal<DecodeMessages>(DECODE_MESSAGES);
const patchedDecodeMessages = require(DECODE_MESSAGES) as DecodeMessages & {
  isLogflowFetchDecoder?: boolean;
};
const OriginalBatch = loadKafkajsOriginal<BatchClass>(BATCH);
const PatchedBatch = require(BATCH) as BatchClass & { isLogflowBatch?: boolean };
const Decoder = require('kafkajs/src/protocol/decoder.js') as new (buffer: Buffer) => DecoderInstance;
const Long = require('kafkajs/src/utils/long.js') as { fromValue(v: unknown): unknown };
const encodeRecord = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (
  args: Record<string, unknown>,
) => unknown;
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as {
  RecordBatch: (args: Record<string, unknown>) => Promise<{ buffer: Buffer }>;
};

const rng = seededRandom;
type Rng = () => number;
const pick = <T>(next: Rng, items: readonly T[]): T => items[Math.floor(next() * items.length)];
const int = (next: Rng, max: number) => Math.floor(next() * max);

/** Random bytes; `ascii` keeps every byte below 0x80 (see the corruption test). */
function randomBytes(next: Rng, max: number, ascii: boolean): Buffer {
  const buf = Buffer.alloc(int(next, max));
  for (let i = 0; i < buf.length; i++) buf[i] = int(next, ascii ? 0x80 : 0x100);
  return buf;
}

const TEXTS = ['', 'a', 'key-17', 'ünïcødé', '日本語', '🙂'];
const HEADER_NAMES = ['h', 'trace-id', 'ünï', '0', '10', '1', 'constructor', 'toString', '__proto__', ''];

function randomPayload(next: Rng, nullable: boolean, ascii: boolean): unknown {
  const r = next();
  if (nullable && r < 0.15) return null;
  if (r < 0.35) return ascii ? 'plain text' : pick(next, TEXTS);
  if (r < 0.45) return Buffer.alloc(0);
  if (r < 0.5 && !ascii) return randomBytes(next, 3000, false);
  return randomBytes(next, ascii ? 8 : 300, ascii);
}

function randomHeaders(next: Rng, ascii: boolean): unknown {
  const r = next();
  if (r < 0.4) return undefined;
  const headers: Record<string, unknown> = {};
  const count = 1 + int(next, ascii ? 2 : 4);
  for (let i = 0; i < count; i++) {
    const name = ascii ? 'h' + i : pick(next, HEADER_NAMES);
    const value =
      next() < 0.25
        ? Array.from({ length: 1 + int(next, ascii ? 2 : 3) }, () => randomPayload(next, false, ascii))
        : randomPayload(next, false, ascii);
    // An own `__proto__` key, as a header decoded from the wire can have.
    Object.defineProperty(headers, name, { value, enumerable: true, writable: true, configurable: true });
  }
  return headers;
}

const DELTAS = [
  0,
  1,
  -1,
  2 ** 47,
  -(2 ** 47),
  2 ** 48 - 1,
  2 ** 48,
  -(2 ** 48),
  2 ** 49 + 3,
  2 ** 60,
  -(2 ** 62),
];

/** Small deltas mostly; in a `wild` batch also ones around and beyond the fast path's 2^48. */
function randomTimestampDelta(next: Rng, ascii: boolean, wild: boolean): number {
  if (ascii) return int(next, 60);
  const r = next();
  if (wild && r < 0.3) return pick(next, DELTAS);
  if (r < 0.6) return int(next, 10_000);
  if (r < 0.8) return -int(next, 100_000);
  return Math.floor((next() - 0.5) * 2 ** 42);
}

const OFFSETS = [
  '0',
  '5',
  String(2 ** 31 - 3),
  String(2 ** 32 + 7),
  String(2 ** 52 - 10),
  String(2 ** 52),
  String(2 ** 53 - 2),
  String(2 ** 53 + 6),
  '9223372036854775000',
  '-1',
  String(-(2 ** 52)),
  String(-(2 ** 52) - 1),
  '-9223372036854775808',
];
const TIMESTAMPS = [
  '-1',
  '0',
  '1700000000000',
  String(2 ** 52 - 1),
  String(2 ** 52 + 1),
  '-4503599627370497',
];

function randomFirstOffset(next: Rng, ascii: boolean): string {
  if (ascii) return String(int(next, 0x7f));
  return next() < 0.7 ? String(int(next, 10_000_000)) : pick(next, OFFSETS);
}

/** One encoded record batch; `ascii` keeps every byte below 0x80 (and the CRC zeroed). */
async function randomBatch(next: Rng, ascii: boolean): Promise<Buffer> {
  const size = int(next, ascii ? 4 : 40);
  const wild = next() < 0.15;
  const records = Array.from({ length: size }, (_, i) => {
    const args: Record<string, unknown> = {
      offsetDelta: ascii || next() < 0.9 ? i : int(next, 2 ** 31) - (next() < 0.1 ? 2 ** 31 : 0),
      timestampDelta: randomTimestampDelta(next, ascii, wild),
      key: randomPayload(next, true, ascii),
      value: randomPayload(next, true, ascii),
      headers: randomHeaders(next, ascii),
    };
    return encodeRecord(args);
  });
  const gzip = !ascii && next() < 0.08;
  const firstTimestamp = ascii ? int(next, 0x7f) : next() < 0.75 ? 1_700_000_000_000 : pick(next, TIMESTAMPS);
  const encoded = await RecordBatch({
    compression: gzip ? 1 : 0,
    firstOffset: randomFirstOffset(next, ascii),
    firstTimestamp,
    maxTimestamp: ascii ? int(next, 0x7f) : next() < 0.7 ? 1_700_000_000_999 : pick(next, TIMESTAMPS),
    partitionLeaderEpoch: int(next, ascii ? 0x7f : 2 ** 31),
    lastOffsetDelta: Math.max(size - 1, 0),
    transactional: next() < 0.2,
    producerId: ascii ? int(next, 0x7f) : pick(next, ['-1', '12345', '9223372036854775807']),
    producerEpoch: int(next, 0x7f),
    firstSequence: int(next, 0x7f),
    records,
  });
  const batch = Buffer.from(encoded.buffer);
  if (!gzip) {
    // Flags RecordBatch never sets: control batch, LOG_APPEND_TIME, codec ids kafkajs reads as "none".
    let attributes = batch.readInt16BE(21);
    if (next() < 0.15) attributes |= 0x20;
    if (next() < 0.15) attributes |= 0x08;
    if (next() < 0.05) attributes |= 5 + int(next, 3);
    batch.writeInt16BE(attributes, 21);
    // A record-level attributes byte (kafkajs' encoder always writes 0).
    if (size > 0 && next() < 0.2) {
      let at = 61;
      while (batch[at] >= 0x80) at++;
      batch[at + 1] = int(next, ascii ? 0x80 : 0x100);
    }
  }
  if (ascii) batch.writeUInt32BE(0, 17);
  else batch.writeUInt32BE(crc32c(batch.subarray(21)), 17);
  return batch;
}

/**
 * A comparable picture of a decoded value: key order, Buffers with their bytes and position in the
 * fetched data, classes, and which objects are shared (kafkajs shares one batchContext per batch).
 */
function snapshot(value: unknown, seen = new Map<object, number>()): unknown {
  if (Buffer.isBuffer(value)) return `buffer@${value.byteOffset}:${value.toString('hex')}`;
  if (typeof value === 'function') return `function ${value.name}`;
  if (typeof value === 'bigint') return `bigint ${value}`;
  if (value === undefined) return 'undefined';
  if (value === null || typeof value !== 'object') return value;
  const ref = seen.get(value);
  if (ref !== undefined) return `ref ${ref}`;
  seen.set(value, seen.size);
  if (Array.isArray(value)) return value.map((item) => snapshot(item, seen));
  const entries = Object.keys(value).map((key) => [
    key,
    snapshot((value as Record<string, unknown>)[key], seen),
  ]);
  return [Object.getPrototypeOf(value)?.constructor?.name ?? null, ...entries];
}

async function outcome(run: () => unknown): Promise<unknown> {
  try {
    return { result: snapshot(await run()) };
  } catch (err) {
    const e = err as Error;
    return { error: [e.constructor.name, e.name, e.message] };
  }
}

/** What decodeMessages makes of a fetched partition's record set: records or error, and the reader's position. */
async function decodeWith(fn: DecodeMessages, input: Buffer): Promise<string> {
  const decoder = new Decoder(input);
  const result = await outcome(() => fn(decoder));
  return JSON.stringify({ result, offset: decoder.offset });
}

/** A record set as a fetch response carries it: int32 size, then the (possibly cut) batches. */
function recordSet(batches: Buffer[], cut?: number): Buffer {
  const bytes = Buffer.concat(batches);
  const body = cut === undefined ? bytes : bytes.subarray(0, cut);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);
  return Buffer.concat([size, body]);
}

async function expectSameDecoding(input: Buffer): Promise<void> {
  const expected = await decodeWith(originalDecodeMessages, input);
  const actual = await decodeWith(patchedDecodeMessages, input);
  if (actual !== expected) expect(JSON.parse(actual)).toEqual(JSON.parse(expected));
}

describe('kafkajs fetch decoding', () => {
  it('is the decoder and Batch kafkajs binds in this process', () => {
    expect(kafkajsFetchDecodingPatched()).toEqual({ decodeMessages: true, batch: true });
    expect(patchedDecodeMessages.isLogflowFetchDecoder).toBe(true);
    expect(PatchedBatch.isLogflowBatch).toBe(true);
    expect(patchedDecodeMessages).not.toBe(originalDecodeMessages);
  });

  it('decodes common batches itself and leaves compressed or huge ones to kafkajs', async () => {
    const plain = (
      await RecordBatch({
        firstOffset: '1000',
        records: [encodeRecord({ key: 'k', value: 'v', offsetDelta: 0, timestampDelta: 3 })],
      })
    ).buffer;
    expect(decodeRecordBatch(plain, 0, plain.length)).toHaveLength(1);
    const huge = (
      await RecordBatch({ firstOffset: String(2 ** 53), records: [encodeRecord({ value: 'v' })] })
    ).buffer;
    expect(decodeRecordBatch(huge, 0, huge.length)).toBeNull();
    const gzip = (await RecordBatch({ compression: 1, records: [encodeRecord({ value: 'v' })] })).buffer;
    expect(decodeRecordBatch(gzip, 0, gzip.length)).toBeNull();
  });

  it('decodes random record sets like kafkajs, whole or cut short anywhere', async () => {
    const next = rng(20261205);
    let fast = 0;
    let all = 0;
    for (let i = 0; i < 1500; i++) {
      const batches = await Promise.all(
        Array.from({ length: 1 + int(next, 4) }, () => randomBatch(next, false)),
      );
      for (const batch of batches) {
        all++;
        if (decodeRecordBatch(batch, 0, batch.length) !== null) fast++;
      }
      const total = batches.reduce((sum, b) => sum + b.length, 0);
      const r = next();
      // Whole, cut anywhere, or cut inside the last batch (the usual fetch tail).
      const cut =
        r < 0.4
          ? undefined
          : r < 0.7
            ? int(next, total + 1)
            : total - batches[batches.length - 1].length + int(next, batches[batches.length - 1].length);
      await expectSameDecoding(recordSet(batches, cut));
    }
    // Most batches take the fast path; the rest (gzip, huge values) exercise the fallback.
    expect(fast / all).toBeGreaterThan(0.5);
    expect(fast / all).toBeLessThan(0.9);
  });

  it('fails or recovers like kafkajs on corrupted bytes', async () => {
    // Every byte below 0x80 but the corrupted one keeps each varint kafkajs reads short, so its
    // header loops stay small even where the corruption makes it read past a record.
    const next = rng(4242);
    for (let i = 0; i < 1500; i++) {
      let bytes: Buffer;
      do {
        const batches = await Promise.all(
          Array.from({ length: 1 + int(next, 3) }, () => randomBatch(next, true)),
        );
        bytes = Buffer.concat(batches);
      } while (!bytes.every((b) => b < 0x80)); // a length field can still reach 0x80
      const at = int(next, bytes.length);
      bytes[at] = next() < 0.5 ? int(next, 0x80) : int(next, 0x100);
      await expectSameDecoding(recordSet([bytes], next() < 0.3 ? int(next, bytes.length + 1) : undefined));
    }
  });

  it('decodes whole fetch responses like kafkajs', async () => {
    const FETCH_V11 = 'kafkajs/src/protocol/requests/fetch/v11/response.js';
    type Response = { decode(raw: Buffer): Promise<unknown> };
    const original = loadKafkajsOriginal<Response>(FETCH_V11);
    const patched = require(FETCH_V11) as Response;
    const next = rng(11);
    for (let i = 0; i < 50; i++) {
      const int16 = (v: number) => Buffer.from([v >> 8, v & 0xff]);
      const int32 = (v: number) => {
        const b = Buffer.alloc(4);
        b.writeInt32BE(v);
        return b;
      };
      const int64 = (v: bigint) => {
        const b = Buffer.alloc(8);
        b.writeBigInt64BE(v);
        return b;
      };
      const partitions: Buffer[] = [];
      const count = 1 + int(next, 4);
      for (let p = 0; p < count; p++) {
        const batches = await Promise.all(
          Array.from({ length: int(next, 4) }, () => randomBatch(next, false)),
        );
        const total = batches.reduce((sum, b) => sum + b.length, 0);
        partitions.push(
          int32(p),
          int16(0),
          int64(123456n),
          int64(123000n),
          int64(0n),
          int32(1),
          int64(777n),
          int64(42n),
          int32(-1),
          recordSet(batches, next() < 0.5 ? total - int(next, 50) : undefined),
        );
      }
      const raw = Buffer.concat([
        int32(0),
        int16(0),
        int32(99),
        int32(1),
        int16(5),
        Buffer.from('topic'),
        int32(count),
        ...partitions,
      ]);
      const expected = JSON.stringify(await outcome(() => original.decode(raw)));
      const actual = JSON.stringify(await outcome(() => patched.decode(raw)));
      if (actual !== expected) expect(JSON.parse(actual)).toEqual(JSON.parse(expected));
    }
  });
});

const BATCH_METHODS = [
  'isEmpty',
  'isEmptyIncludingFiltered',
  'isEmptyDueToFiltering',
  'isEmptyControlRecord',
  'isEmptyDueToLogCompactedMessages',
  'firstOffset',
  'lastOffset',
  'offsetLag',
  'offsetLagLow',
];

async function batchOutcome(
  Batch: BatchClass,
  fetchedOffset: unknown,
  partitionData: unknown,
): Promise<string> {
  return JSON.stringify(
    await outcome(() => {
      const batch = new Batch('topic', fetchedOffset, partitionData);
      const methods = BATCH_METHODS.map((name) => {
        try {
          return snapshot(batch[name]());
        } catch (err) {
          return `throws ${(err as Error).name}: ${(err as Error).message}`;
        }
      });
      return { batch: snapshot(batch), methods };
    }),
  );
}

async function expectSameBatch(fetchedOffset: unknown, partitionData: unknown): Promise<void> {
  const expected = await batchOutcome(OriginalBatch, fetchedOffset, partitionData);
  const actual = await batchOutcome(PatchedBatch, fetchedOffset, partitionData);
  if (actual !== expected) expect(JSON.parse(actual)).toEqual(JSON.parse(expected));
}

describe('kafkajs consumer Batch', () => {
  it('has the methods of kafkajs’ Batch', () => {
    // The private copy's functions are other objects than the ones kafkajs loaded: compare their code.
    const methods = (Batch: BatchClass) =>
      Object.getOwnPropertyNames(Batch.prototype)
        .filter((name) => name !== 'constructor')
        .map((name) => [name, String((Batch.prototype as unknown as BatchInstance)[name])]);
    expect(methods(PatchedBatch)).toEqual(methods(OriginalBatch));
    expect(methods(PatchedBatch).map(([name]) => name)).toEqual(BATCH_METHODS);
    expect(new PatchedBatch('t', '0', { partition: 0, highWatermark: '0', messages: [] })).toBeInstanceOf(
      PatchedBatch,
    );
  });

  it('filters and reports fetched messages like kafkajs', async () => {
    const next = rng(5);
    for (let i = 0; i < 400; i++) {
      const batches = await Promise.all(
        Array.from({ length: 1 + int(next, 3) }, () => randomBatch(next, false)),
      );
      const messages = (await originalDecodeMessages(new Decoder(recordSet(batches)) as DecoderInstance)) as {
        offset: string;
        batchContext: { producerId: string };
      }[];
      const some = messages.length > 0 ? pick(next, messages) : undefined;
      const base = some ? BigInt(some.offset) : 0n;
      const fetched = pick(next, [
        () => String(base),
        () => String(base + BigInt(int(next, 5)) - 2n),
        () => Number(base),
        () => Long.fromValue(String(base)),
        () => pick(next, OFFSETS),
        () => base,
      ])();
      const abortedTransactions =
        some && next() < 0.3 ? [{ producerId: some.batchContext.producerId, firstOffset: some.offset }] : [];
      const partitionData = {
        partition: 3,
        highWatermark: String(base + 10n),
        abortedTransactions,
        messages,
      };
      await expectSameBatch(fetched, partitionData);
    }
  });

  it('compares odd offsets like kafkajs', async () => {
    const offsets: unknown[] = [
      '5',
      '007',
      '-3',
      '-0',
      '-',
      '',
      ' 7',
      '+7',
      '1e3',
      '0x10',
      'NaN',
      '12.5',
      '999999999999999',
      '9999999999999999',
      '9007199254740993',
      '123456789012345678901',
      5,
      2 ** 60,
      7n,
      Long.fromValue('6'),
    ];
    for (const fetched of ['6', '-2', 6, '9007199254740992', '9007199254740993', '123456789012345678900']) {
      for (const offset of offsets) {
        const partitionData = {
          partition: 0,
          highWatermark: '100',
          messages: [{ offset, isControlRecord: false, batchContext: {} }],
        };
        await expectSameBatch(fetched, partitionData);
      }
    }
  });
});
