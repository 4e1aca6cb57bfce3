/**
 * LogFlow replaces kafkajs' produce encoding and fetch decoding with its own (topology/transport/
 * kafkajs-*.ts); unit tests compare them with kafkajs' modules byte for byte. This is the other half:
 * the real broker accepts what they write (it checks every batch's CRC32C and layout) and what they
 * read back is every record as sent — awkward shapes included — whether it came through the fast
 * path or through kafkajs' own decoder (gzip batches).
 */
// First, before kafkajs loads (as every transport module does): the replacements install then.
import '../../../topology/transport/kafkajs-linear-grouping.ts';
import { CompressionTypes } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { kafkajsFetchDecodingPatched } from '../../../topology/transport/kafkajs-fetch-decoding.ts';
import { kafkajsProduceEncodingPatched } from '../../../topology/transport/kafkajs-produce-encoding.ts';
import { kafkajsRecordEncodingPatched } from '../../../topology/transport/kafkajs-record-encoding.ts';
import type { IncomingMessage, OutgoingMessage } from '../../../topology/transport/transport.ts';
import { seededRandom } from '../../helpers/seeded-random.ts';
import { kafkaProducer } from '../../helpers/services.ts';
import { waitFor } from '../../helpers/wait-for.ts';
import { createTopic, kafkaTransport, readAll } from './kafka-helpers.ts';

function bytes(random: () => number, max: number): Buffer {
  const out = Buffer.allocUnsafe(Math.floor(random() * max));
  for (let i = 0; i < out.length; i++) out[i] = Math.floor(random() * 256);
  return out;
}

/** Records of every awkward shape: null/empty/binary keys and values, headers, odd timestamps. */
function awkwardRecords(topic: string, n: number, seed: number): OutgoingMessage[] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, (_, i) => {
    const shape = i % 6;
    const headers: Record<string, Buffer> = {};
    if (shape >= 3) headers[`h-${i % 5}`] = bytes(random, 40);
    if (shape === 5) headers['ünïcode ✓'] = Buffer.from('välue');
    return {
      topic,
      partition: i % 3,
      key: shape === 0 ? null : shape === 1 ? Buffer.alloc(0) : bytes(random, 64),
      value: shape === 2 ? null : i % 97 === 0 ? bytes(random, 200_000) : bytes(random, 600),
      // A far-past event time travels as a large negative int64 delta from the batch's first (the
      // broker refuses times more than an hour ahead).
      timestamp: i % 11 === 0 ? 1_000 : 1_700_000_000_000 + i,
      headers: Object.keys(headers).length ? headers : undefined,
    };
  });
}

/** A record as sent or as read, comparable: everything but its offset, bytes as hex. */
function comparable(m: IncomingMessage | OutgoingMessage) {
  return {
    partition: m.partition,
    key: m.key === null ? null : m.key.toString('hex'),
    value: m.value === null ? null : m.value.toString('hex'),
    timestamp: m.timestamp,
    headers: Object.fromEntries(Object.entries(m.headers ?? {}).map(([k, v]) => [k, v.toString('hex')])),
  };
}

describe('kafkajs replacements on the real broker', () => {
  it('are the code this process runs', () => {
    expect(kafkajsRecordEncodingPatched()).toEqual({ record: true, crc: true });
    expect(kafkajsProduceEncodingPatched()).toBe(true);
    expect(kafkajsFetchDecodingPatched()).toEqual({ decodeMessages: true, batch: true });
  });

  it('write records the broker accepts and read back exactly what was sent, at the acknowledged offsets', async () => {
    const transport = kafkaTransport();
    const topic = await createTopic(transport, 3);
    const producer = transport.producer();
    await producer.connect();
    const messages = awkwardRecords(topic, 1_500, 42);
    // Several sends, so batches of one partition follow each other in the log.
    const acks = [
      ...(await producer.send(messages.slice(0, 700))),
      ...(await producer.send(messages.slice(700))),
    ];
    await producer.disconnect();

    const read = await readAll(transport, topic);
    expect(read).toHaveLength(messages.length);
    const byPosition = new Map(read.map((m) => [`${m.partition}/${m.offset}`, m]));
    messages.forEach((m, i) => {
      const got = byPosition.get(`${acks[i].partition}/${acks[i].offset}`);
      expect(got && comparable(got), `record ${i}`).toEqual(comparable(m));
    });
  });

  it('commit transactional writes that a read_committed reader gets whole, and never an aborted one', async () => {
    const transport = kafkaTransport();
    const topic = await createTopic(transport, 3);
    const producer = transport.producer({ transactionalId: `lf-test-txn-${Date.now()}` });
    await producer.connect();
    const committed = awkwardRecords(topic, 300, 7);
    const aborted = awkwardRecords(topic, 50, 8);
    const t1 = await producer.transaction();
    await t1.send(committed.slice(0, 150));
    await t1.commit();
    const t2 = await producer.transaction();
    await t2.send(aborted);
    await t2.abort();
    const t3 = await producer.transaction();
    await t3.send(committed.slice(150));
    await t3.commit();
    await producer.disconnect();

    // The coordinator writes the last commit marker after commit() returns: read until it is there.
    const read = await waitFor(
      async () => {
        const all = await readAll(transport, topic);
        return all.length >= committed.length ? all : undefined;
      },
      { what: 'every committed record readable' },
    );
    const key = (x: { partition?: number; value: string | null }) => `${x.partition}:${x.value}`;
    const got = read.map(comparable).sort((a, b) => key(a).localeCompare(key(b)));
    const want = committed.map(comparable).sort((a, b) => key(a).localeCompare(key(b)));
    expect(got).toEqual(want);
  });

  it('read gzip batches (kafkajs own decoder) like uncompressed ones', async () => {
    const transport = kafkaTransport();
    const topic = await createTopic(transport, 1);
    const raw = await kafkaProducer();
    const messages = awkwardRecords(topic, 200, 9).map((m) => ({ ...m, partition: 0 }));
    await raw.send({
      topic,
      compression: CompressionTypes.GZIP,
      messages: messages.map((m) => ({
        key: m.key,
        value: m.value,
        partition: 0,
        timestamp: String(m.timestamp),
        headers: m.headers,
      })),
    });
    const read = await readAll(transport, topic);
    expect(read.map(comparable)).toEqual(messages.map(comparable));
    expect(read.map((m) => m.offset)).toEqual(messages.map((_, i) => i));
  });
});
