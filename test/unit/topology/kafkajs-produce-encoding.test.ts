import { createRequire } from 'node:module';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
// Imported before kafkajs, as the transport does.
import { kafkajsProduceEncodingPatched } from '../../../topology/transport/kafkajs-produce-encoding.ts';
import { kafkajsRecordEncodingPatched } from '../../../topology/transport/kafkajs-record-encoding.ts';
import '../../../topology/transport/kafka-transport.ts';
import { loadKafkajsOriginal } from '../../helpers/kafkajs-original.ts';
import { seededRandom } from '../../helpers/seeded-random.ts';

const require = createRequire(import.meta.url);

type Encoded = { buffer: Buffer };
interface Request {
  apiKey: number;
  apiVersion: number;
  apiName: string;
  expectResponse: () => boolean;
  encode: () => Promise<Encoded>;
}
type ProduceFn = (args: Record<string, unknown>) => Request;

const PRODUCE = 'kafkajs/src/protocol/requests/produce/v3/request.js';
const RECORD = 'kafkajs/src/protocol/recordBatch/record/v0/index.js';

const originalProduce = loadKafkajsOriginal<ProduceFn>(PRODUCE);
const patchedProduce = require(PRODUCE) as ProduceFn & {
  isLogflowProduceEncoder?: boolean;
  recordEncoder?: unknown;
};
const Long = require('kafkajs/src/utils/long.js') as { fromValue(v: unknown): unknown };

const rng = seededRandom;

const TEXTS = ['', 'a', 'key-17', 'ünïcødé', '日本語のキー', '🙂 emoji', 'x'.repeat(300)];
const NOW = 1_733_443_200_000;

function pick<T>(next: () => number, list: readonly T[]): T {
  return list[Math.floor(next() * list.length)];
}

function randomBytes(next: () => number, max: number): Buffer {
  const buf = Buffer.alloc(Math.floor(next() * max));
  for (let i = 0; i < buf.length; i++) buf[i] = Math.floor(next() * 256);
  return buf;
}

function randomPayload(next: () => number, nullable: boolean): unknown {
  const r = next();
  if (nullable && r < 0.15) return next() < 0.5 ? null : undefined;
  if (r < 0.55) return pick(next, TEXTS);
  if (r < 0.6) return Buffer.alloc(0);
  if (r < 0.62) return randomBytes(next, 5000);
  return randomBytes(next, 200);
}

function randomHeaders(next: () => number): unknown {
  const r = next();
  if (r < 0.4) return undefined;
  if (r < 0.5) return {};
  const headers: Record<string, unknown> = {};
  const count = 1 + Math.floor(next() * 3);
  for (let i = 0; i < count; i++) {
    headers[pick(next, TEXTS) + i] =
      next() < 0.3
        ? Array.from({ length: Math.floor(next() * 3) }, () => randomPayload(next, false))
        : randomPayload(next, false);
  }
  return headers;
}

/**
 * Timestamps as producers give them: strings (ours), numbers, missing, and the odd ones that make
 * kafkajs' string sort differ from numeric order ('999' vs '1000'), zero (falsy: kafkajs uses the
 * clock for that record's delta but keeps 0 in the sort), decimals and negatives.
 */
function randomTimestamp(next: () => number): unknown {
  const r = next();
  if (r < 0.15) return undefined;
  if (r < 0.2) return null;
  const around = NOW + Math.floor((next() - 0.5) * 200_000);
  if (r < 0.5) return String(around);
  if (r < 0.75) return around;
  if (r < 0.8) return pick(next, ['999', '1000', 999, 1000, '10', 9, '0', 0, -5, '-5']);
  if (r < 0.802) return pick(next, ['1.5', 2.5, '1e3', ' 42 ']); // kafkajs refuses most requests with one
  return next() < 0.5 ? String(Math.floor(next() * 1e6)) : Math.floor(next() * 1e12);
}

/** Records that are not plain objects: kafkajs spreads them, so inherited fields are not encoded. */
class MessageWithInherited {
  timestamp: unknown;
  value: unknown;
  constructor(timestamp: unknown, value: unknown) {
    this.timestamp = timestamp;
    this.value = value;
  }
  get key(): string {
    return 'inherited-key-not-encoded';
  }
}

function randomMessage(next: () => number): unknown {
  const r = next();
  const timestamp = randomTimestamp(next);
  if (r < 0.03) return new MessageWithInherited(timestamp, randomPayload(next, true));
  const message: Record<string, unknown> = r < 0.06 ? Object.create(null) : {};
  if (next() < 0.9) message.key = randomPayload(next, true);
  message.value = randomPayload(next, true);
  const headers = randomHeaders(next);
  if (headers !== undefined) message.headers = headers;
  if (timestamp !== undefined || next() < 0.5) message.timestamp = timestamp;
  if (next() < 0.1) message.partition = Math.floor(next() * 8); // producers leave it in
  return message;
}

function randomRequest(next: () => number): Record<string, unknown> {
  const topicData = Array.from({ length: 1 + Math.floor(next() * 3) }, (_, t) => ({
    topic: `${pick(next, ['orders', 'logs.v1', 'ünï'])}-${t}`,
    partitions: Array.from({ length: 1 + Math.floor(next() * 4) }, () => {
      const size = next() < 0.1 ? 0 : 1 + Math.floor(next() * (next() < 0.9 ? 12 : 200));
      const partition: Record<string, unknown> = {
        partition: Math.floor(next() * 64),
        messages: Array.from({ length: size }, () => randomMessage(next)),
      };
      if (next() < 0.6) partition.firstSequence = Math.floor(next() * 2 ** 31);
      return partition;
    }),
  }));
  const request: Record<string, unknown> = {
    acks: pick(next, [-1, 0, 1]),
    timeout: Math.floor(next() * 60_000),
    topicData,
  };
  const tx = next();
  if (tx < 0.4) request.transactionalId = pick(next, ['logflow-app-0_1', 'ünï-tx', '']);
  else if (tx < 0.5) request.transactionalId = null;
  const id = next();
  if (id < 0.3) request.producerId = Math.floor(next() * 2 ** 40);
  else if (id < 0.5) request.producerId = Long.fromValue(String(Math.floor(next() * 2 ** 50)));
  else if (id < 0.6) request.producerId = -1;
  if (next() < 0.6) request.producerEpoch = Math.floor(next() * 32_767);
  const c = next();
  if (c < 0.1) request.compression = 0;
  else if (c < 0.13) request.compression = 1; // GZIP: kafkajs' own path
  return request;
}

/** The request bytes as hex (cheap to compare and to print), or the error when kafkajs refuses it. */
async function encode(fn: ProduceFn, args: Record<string, unknown>): Promise<string> {
  try {
    const request = fn(args);
    const bytes = (await request.encode()).buffer.toString('hex');
    return `${request.apiKey}/${request.apiVersion}/${request.apiName}/${request.expectResponse()} ${bytes}`;
  } catch (err) {
    return `throws ${(err as Error).message}`;
  }
}

/** firstTimestamp and maxTimestamp of the single batch of a one-topic, one-partition request. */
function batchTimestamps(bytes: Buffer, topic: string, transactionalId: string | null): [bigint, bigint] {
  const batchBody =
    2 +
    (transactionalId === null ? 0 : Buffer.byteLength(transactionalId)) +
    2 +
    4 +
    4 +
    2 +
    Buffer.byteLength(topic) +
    4 +
    8 +
    12 +
    9;
  return [bytes.readBigInt64BE(batchBody + 6), bytes.readBigInt64BE(batchBody + 14)];
}

describe('kafkajs produce request encoding', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(NOW);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('is the produce request kafkajs binds, with the record encoder of kafkajs-record-encoding', () => {
    expect(kafkajsProduceEncodingPatched()).toBe(true);
    expect(kafkajsRecordEncodingPatched()).toEqual({ record: true, crc: true });
    expect(patchedProduce.isLogflowProduceEncoder).toBe(true);
    const record = require(RECORD) as { isLogflowRecordEncoder?: boolean };
    expect(record.isLogflowRecordEncoder).toBe(true);
    expect(patchedProduce.recordEncoder).toBe(record);
    // Versions 3 to 7 all go through it (v4+ reuse v3's request).
    const { protocol } = require('kafkajs/src/protocol/requests/produce/index.js') as {
      protocol: (v: { version: number }) => (args: Record<string, unknown>) => { request: Request };
    };
    for (const version of [3, 5, 7]) {
      const { request } = protocol({ version })({ acks: -1, timeout: 30_000, topicData: [] });
      expect(request.apiVersion).toBe(version);
      expect(request.encode.toString()).toContain('encodeRequest');
    }
  });

  it('encodes thousands of random requests byte for byte like kafkajs', async () => {
    const next = rng(20261205);
    let throwing = 0;
    for (let i = 0; i < 3000; i++) {
      vi.setSystemTime(NOW + i * 17);
      const args = randomRequest(next);
      const expected = await encode(originalProduce, args);
      if (expected.startsWith('throws')) throwing++;
      const actual = await encode(patchedProduce, args);
      if (actual !== expected) expect({ i, actual }).toEqual({ i, actual: expected });
    }
    // Mostly real requests; a few the odd timestamps make kafkajs refuse.
    expect(throwing).toBeLessThan(300);
  });

  /** A request of one batch: `messages` to partition 0 of topic 't', acks=all. */
  const oneBatch = (messages: Record<string, unknown>[]) => ({
    acks: -1,
    timeout: 1000,
    topicData: [{ topic: 't', partitions: [{ partition: 0, messages }] }],
  });

  it('reads the clock when encoding, not when the request is made', async () => {
    const args = oneBatch([{ value: 'a' }, { value: 'b' }]);
    const patched = patchedProduce(args);
    const original = originalProduce(args);
    vi.setSystemTime(NOW + 5000);
    const bytes = (await patched.encode()).buffer;
    expect(bytes.equals((await original.encode()).buffer)).toBe(true);
    expect(batchTimestamps(bytes, 't', null)).toEqual([BigInt(NOW + 5000), BigInt(NOW + 5000)]);
  });

  it('keeps kafkajs string-sorted first and max timestamps', async () => {
    // kafkajs `.sort()`s timestamps as strings: '1000' < '999', so its "first" is 1000 and its
    // "max" 999 — odd, but those are the bytes the broker gets from kafkajs.
    const args = {
      acks: 1,
      timeout: 1000,
      transactionalId: 'tx',
      topicData: [
        {
          topic: 'ts',
          partitions: [
            {
              partition: 3,
              messages: [
                { value: 'a', timestamp: '999' },
                { value: 'b', timestamp: 1000 },
              ],
            },
          ],
        },
      ],
    };
    const bytes = (await patchedProduce(args).encode()).buffer;
    expect(bytes.equals((await originalProduce(args).encode()).buffer)).toBe(true);
    expect(batchTimestamps(bytes, 'ts', 'tx')).toEqual([1000n, 999n]);
  });

  it('breaks ties between equal string forms like the stable sort of kafkajs', async () => {
    // 1e21 and '1e+21' sort as equal; only the number converts to an int64, so which one kafkajs
    // takes as first and max (the earliest and the latest of equal ones) decides if it throws.
    const orders = [
      [1e21, '1e+21'],
      ['1e+21', 1e21],
      [1e21, '1e+21', 1e21],
      ['1e+21', 1e21, '1e+21'],
    ];
    for (const timestamps of orders) {
      const args = oneBatch(timestamps.map((timestamp) => ({ value: 'v', timestamp })));
      expect(await encode(patchedProduce, args)).toEqual(await encode(originalProduce, args));
    }
  });

  it('encodes odd timestamp types like kafkajs (its own sort)', async () => {
    const odd = [true, { toString: () => '1700000000000' }, 12n];
    for (const timestamp of odd) {
      const args = oneBatch([
        { value: 'a', timestamp },
        { value: 'b', timestamp: '5' },
      ]);
      expect(await encode(patchedProduce, args)).toEqual(await encode(originalProduce, args));
    }
  });
});
