import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
// Imported before kafkajs, as the transport does.
import { crc32c, kafkajsRecordEncodingPatched } from '../../../topology/transport/kafkajs-record-encoding.ts';
import '../../../topology/transport/kafka-transport.ts';
import { loadKafkajsOriginal } from '../../helpers/kafkajs-original.ts';
import { seededRandom } from '../../helpers/seeded-random.ts';

const require = createRequire(import.meta.url);

type Encoded = { buffer: Buffer };
type RecordFn = (args: Record<string, unknown>) => Encoded;

const RECORD = 'kafkajs/src/protocol/recordBatch/record/v0/index.js';
const originalRecord = loadKafkajsOriginal<RecordFn>(RECORD);
const originalCrc = loadKafkajsOriginal<(b: Buffer) => number>(
  'kafkajs/src/protocol/recordBatch/crc32C/crc32C.js',
);
const patchedRecord = require(RECORD) as RecordFn;
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as {
  RecordBatch: (args: Record<string, unknown>) => Promise<Encoded>;
};

const rng = seededRandom;

function randomBytes(next: () => number, max: number): Buffer {
  const buf = Buffer.alloc(Math.floor(next() * max));
  const seed = (next() * 2 ** 32) >>> 0;
  for (let i = 0; i < buf.length; i++) buf[i] = (Math.imul(i + seed, 0x9e3779b1) >>> 13) & 0xff;
  return buf;
}

const TEXTS = ['', 'a', 'key-17', 'ünïcødé', '日本語のキー', '🙂 emoji', 'x'.repeat(300)];

function randomPayload(next: () => number, nullable: boolean): unknown {
  const r = next();
  if (nullable && r < 0.15) return next() < 0.5 ? null : undefined;
  if (r < 0.45) return TEXTS[Math.floor(next() * TEXTS.length)];
  if (r < 0.55) return Buffer.alloc(0);
  if (r < 0.6) return randomBytes(next, 70_000); // large values
  return randomBytes(next, 600);
}

function randomHeaders(next: () => number): unknown {
  const r = next();
  if (r < 0.3) return undefined;
  if (r < 0.4) return {};
  const headers: Record<string, unknown> = {};
  const count = 1 + Math.floor(next() * 4);
  for (let i = 0; i < count; i++) {
    const name = TEXTS[Math.floor(next() * TEXTS.length)] + i;
    headers[name] =
      next() < 0.3
        ? Array.from({ length: Math.floor(next() * 3) }, () => randomPayload(next, false))
        : randomPayload(next, false);
  }
  return headers;
}

function randomDelta(next: () => number): number {
  const r = next();
  if (r < 0.2) return 0;
  if (r < 0.5) return Math.floor(next() * 10_000);
  if (r < 0.7) return -Math.floor(next() * 100_000);
  if (r < 0.85) return Math.floor((next() - 0.5) * 2 ** 42);
  return Math.floor((next() - 0.5) * 2 ** 33);
}

function randomArgs(next: () => number): Record<string, unknown> {
  const args: Record<string, unknown> = {
    key: randomPayload(next, true),
    value: randomPayload(next, true),
    headers: randomHeaders(next),
  };
  if (next() < 0.9)
    args.offsetDelta = next() < 0.8 ? Math.floor(next() * 5000) : Math.floor(next() * 2 ** 31);
  if (next() < 0.9) args.timestampDelta = randomDelta(next);
  return args;
}

/** The encoded bytes as hex (cheap to compare and to print), or the error when kafkajs refuses the record. */
function encode(fn: RecordFn, args: Record<string, unknown>): string {
  try {
    return fn({ ...args }).buffer.toString('hex');
  } catch (err) {
    return `throws ${(err as Error).message}`;
  }
}

describe('kafkajs per-record produce encoding', () => {
  it('is the encoder and CRC kafkajs binds in this process', () => {
    expect(kafkajsRecordEncodingPatched()).toEqual({ record: true, crc: true });
    expect(patchedRecord).not.toBe(originalRecord);
    expect((patchedRecord as unknown as { isLogflowRecordEncoder?: boolean }).isLogflowRecordEncoder).toBe(
      true,
    );
  });

  it('encodes random records byte for byte like kafkajs', () => {
    const next = rng(20261128);
    for (let i = 0; i < 2000; i++) {
      const args = randomArgs(next);
      const expected = encode(originalRecord, args);
      expect(expected.startsWith('throws')).toBe(false);
      expect(encode(patchedRecord, args) === expected).toBe(true);
    }
  });

  it('falls back to kafkajs for the shapes it does not handle itself', () => {
    const odd: Record<string, unknown>[] = [
      { key: 'k', value: 'v', timestampDelta: 1.5 },
      { key: 'k', value: 'v', timestampDelta: 2 ** 60 },
      { key: 'k', value: 'v', timestampDelta: -(2 ** 53) },
      { key: 'k', value: 'v', timestampDelta: Number.NaN },
      { key: 'k', value: 'v', offsetDelta: 2 ** 32 + 5 },
      { key: 'k', value: 'v', offsetDelta: -3 },
      { key: 'k', value: 'v', headers: { h: null } },
      { key: 'k', value: 'v', headers: { h: 7 } },
      { key: 'k', value: 'v', headers: null },
      { key: 42, value: 'v' },
      { key: 'k', value: new Uint8Array([1, 2, 3]) },
    ];
    for (const args of odd) expect(encode(patchedRecord, args)).toEqual(encode(originalRecord, args));
  });

  it('builds identical record batches', async () => {
    const next = rng(7);
    for (let b = 0; b < 40; b++) {
      const size = 1 + Math.floor(next() * 120);
      const argsList = Array.from({ length: size }, (_, i) => ({ ...randomArgs(next), offsetDelta: i }));
      const batch = async (fn: RecordFn) =>
        (
          await RecordBatch({
            records: argsList.map((a) => fn({ ...a })),
            firstTimestamp: 1_700_000_000_000 + b,
            maxTimestamp: 1_700_000_000_500 + b,
            lastOffsetDelta: size - 1,
          })
        ).buffer;
      expect((await batch(patchedRecord)).equals(await batch(originalRecord))).toBe(true);
    }
  });

  it('computes the same CRC32C as kafkajs for any length and alignment', () => {
    const next = rng(99);
    expect(crc32c(Buffer.from('123456789'))).toBe(0xe3069283); // the Castagnoli check value
    for (let i = 0; i < 500; i++) {
      const buf = randomBytes(next, i < 400 ? 40 : 70_000);
      const view = buf.subarray(Math.floor(next() * Math.min(buf.length, 9)));
      expect(crc32c(view)).toBe(originalCrc(view));
    }
  });
});
