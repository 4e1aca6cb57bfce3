/**
 * The Elasticsearch sink on the real services: Avro `logs-parsed` records on Kafka (KafkaTransport,
 * Schema Registry) written into real Elasticsearch. Outages are made with a TCP proxy the test
 * cuts and restores, so the shared Elasticsearch keeps serving the other test files.
 */
import { Client } from '@elastic/elasticsearch';
import { afterAll, describe, expect, it } from 'vitest';
import {
  createElasticsearchSink,
  DEAD_LETTER_HEADERS,
  type ElasticsearchSink,
} from '../../../connectors/elasticsearch/sink.ts';
import type { ParsedLog } from '../../../storage/logs/types.ts';
import { AvroSerde } from '../../../topology/serdes/avro-serde.ts';
import { SchemaRegistryClient } from '../../../topology/serdes/schema-registry.ts';
import { KafkaTransport } from '../../../topology/transport/kafka-transport.ts';
import type { IncomingMessage } from '../../../topology/transport/transport.ts';
import { randomName } from '../../helpers/names.ts';
import { createTopic, registerCleanup, registryUrl, serviceConfig } from '../../helpers/services.ts';
import { tcpProxy } from '../../helpers/tcp-proxy.ts';
import { waitFor } from '../../helpers/wait-for.ts';

const esUrl = serviceConfig().elasticsearchUrl;
const client = new Client({ node: esUrl });
const registry = new SchemaRegistryClient({ url: registryUrl() });
afterAll(() => client.close());
/**
 * One transport per test: kafkajs keeps refreshing metadata of topics it has seen, and a topic
 * deleted by an earlier test's cleanup would make that fail for the next test.
 */
let transport: KafkaTransport;

const DAY = 86_400_000;
const T = Date.UTC(2026, 0, 15, 12, 0, 0);

function makeLogs(from: number, count: number, run: string): ParsedLog[] {
  return Array.from({ length: count }, (_, k): ParsedLog => {
    const i = from + k;
    return {
      id: `${run}-${i}`,
      // Two days, so the sink writes two daily indices.
      timestamp: T + (i % 2) * DAY + i,
      level: i % 10 === 0 ? 'ERROR' : 'INFO',
      service: `svc-${i % 5}`,
      message: `request ${i} served in ${i % 97}ms`,
      source: { hostname: 'it-host', file: '/var/log/it.log' },
      extra_fields: i % 3 === 0 ? { request_id: `r-${i}` } : {},
      ingested_at: T + i + 5,
    };
  });
}

interface Fixture {
  topic: string;
  dlq: string;
  prefix: string;
  serde: AvroSerde<ParsedLog>;
}

async function fixture(partitions = 3): Promise<Fixture> {
  const topic = await createTopic({ prefix: 'lf-sink-in', partitions });
  const dlq = await createTopic({ prefix: 'lf-sink-dlq', partitions: 1 });
  const prefix = randomName('lfit-sink');
  transport = new KafkaTransport({ clientId: randomName('lf-sink-it') });
  const own = transport;
  registerCleanup(async () => {
    await own.close();
    await client.indices.delete({ index: `${prefix}-*`, expand_wildcards: 'all' }, { ignore: [404] });
    await client.indices.deleteIndexTemplate({ name: `${prefix}-template` }, { ignore: [404] });
    const base = `${registryUrl()}/subjects/${encodeURIComponent(`${topic}-value`)}`;
    await fetch(base, { method: 'DELETE' });
    await fetch(`${base}?permanent=true`, { method: 'DELETE' });
  });
  return { topic, dlq, prefix, serde: new AvroSerde<ParsedLog>({ registry, schema: 'logs-parsed' }) };
}

async function produce(f: Fixture, logs: ParsedLog[]): Promise<Map<string, Buffer>> {
  const producer = transport.producer();
  await producer.connect();
  const bytes = new Map<string, Buffer>();
  const messages = [];
  for (const log of logs) {
    const value = (await f.serde.serialize(f.topic, log))!;
    bytes.set(log.id, value);
    messages.push({ topic: f.topic, key: Buffer.from(log.id), value });
  }
  await producer.send(messages);
  await producer.disconnect();
  return bytes;
}

function startSink(
  f: Fixture,
  options: { node?: string; groupId?: string } = {},
): Promise<ElasticsearchSink> {
  const sink = createElasticsearchSink({
    transport,
    serde: f.serde,
    node: options.node ?? esUrl,
    indexPrefix: f.prefix,
    topic: f.topic,
    deadLetterTopic: f.dlq,
    groupId: options.groupId ?? randomName('lf-sink-group'),
    batch: { maxRecords: 500, lingerMs: 50 },
    retry: { initialMs: 50, maxMs: 500 },
    stopTimeoutMs: 2_000,
  });
  registerCleanup(() => sink.stop());
  return sink.start().then(() => sink);
}

async function indexedIds(prefix: string): Promise<string[]> {
  await client.indices.refresh({ index: `${prefix}-*`, ignore_unavailable: true, allow_no_indices: true });
  const ids: string[] = [];
  let after: (string | number)[] | undefined;
  for (;;) {
    const r = await client.search({
      index: `${prefix}-*`,
      size: 5_000,
      sort: [{ timestamp: 'asc' }, { sort_key: 'asc' }],
      search_after: after,
      _source: false,
      ignore_unavailable: true,
      allow_no_indices: true,
    });
    const hits = r.hits.hits;
    if (hits.length === 0) return ids.sort();
    ids.push(...hits.map((h) => h._id!));
    after = hits[hits.length - 1].sort as (string | number)[];
  }
}

async function committed(groupId: string, topic: string): Promise<number> {
  const offsets = await transport.committedOffsets(groupId, topic);
  return offsets.reduce((n, o) => n + Math.max(0, o.offset), 0);
}

async function readAll(topic: string): Promise<IncomingMessage[]> {
  const out: IncomingMessage[] = [];
  for await (const chunk of transport.readPartition(topic, 0)) out.push(...chunk);
  return out;
}

/** A TCP proxy to Elasticsearch the test can cut (refuse and drop connections) and restore. */
const elasticsearchProxy = () => tcpProxy(esUrl, 9200);

describe('Elasticsearch sink on Kafka and Elasticsearch', () => {
  it('writes every record exactly once, and a replay by another group duplicates nothing', async () => {
    const f = await fixture();
    const logs = makeLogs(0, 3_000, 'once');
    await produce(f, logs);
    const groupId = randomName('lf-sink-group');
    const sink = await startSink(f, { groupId });
    await waitFor(() => committed(groupId, f.topic).then((n) => n === logs.length), {
      timeoutMs: 60_000,
      what: 'all offsets committed',
    });
    expect(await indexedIds(f.prefix)).toEqual(logs.map((l) => l.id).sort());
    const indices = await client.cat.indices({ index: `${f.prefix}-*`, format: 'json', h: 'index' });
    expect(indices.map((i) => i.index).sort()).toEqual([`${f.prefix}-2026.01.15`, `${f.prefix}-2026.01.16`]);
    expect(sink.getStats()).toMatchObject({ written: 3_000, deadLettered: 0 });

    // The same topic read again from the start by a second group: every record is a 409.
    const replayGroup = randomName('lf-sink-replay');
    const replay = await startSink(f, { groupId: replayGroup });
    await waitFor(() => committed(replayGroup, f.topic).then((n) => n === logs.length), {
      timeoutMs: 60_000,
      what: 'replay committed',
    });
    expect(replay.getStats()).toMatchObject({ written: 0, duplicates: 3_000 });
    expect((await indexedIds(f.prefix)).length).toBe(3_000);
  });

  it('dead-letters mapping errors with the original bytes and headers, and writes the rest', async () => {
    const f = await fixture(1);
    // Someone broke the mapping of one day's index: `level` became a number.
    await client.indices.create({
      index: `${f.prefix}-2026.01.16`,
      mappings: { properties: { level: { type: 'long' } } },
    });
    const logs = makeLogs(0, 200, 'dlq');
    const bytes = await produce(f, logs);
    const groupId = randomName('lf-sink-group');
    const sink = await startSink(f, { groupId });
    await waitFor(() => committed(groupId, f.topic).then((n) => n === logs.length), {
      timeoutMs: 60_000,
      what: 'all committed',
    });
    const odd = logs.filter((l) => (l.timestamp - T) % (2 * DAY) >= DAY);
    const even = logs.filter((l) => !odd.includes(l));
    expect(await indexedIds(f.prefix)).toEqual(even.map((l) => l.id).sort());
    const dead = await readAll(f.dlq);
    expect(dead).toHaveLength(odd.length);
    for (const m of dead) {
      const id = m.key!.toString();
      expect(m.value).toEqual(bytes.get(id));
      expect(m.headers[DEAD_LETTER_HEADERS.code]?.toString()).toBe('LF_ERR_SINK_REJECTED');
      expect(m.headers[DEAD_LETTER_HEADERS.status]?.toString()).toBe('400');
      expect(m.headers[DEAD_LETTER_HEADERS.topic]?.toString()).toBe(f.topic);
      expect(m.headers[DEAD_LETTER_HEADERS.reason]?.toString()).toMatch(/level/);
    }
    expect(sink.getStats()).toMatchObject({ written: even.length, deadLettered: odd.length });
  });

  it('pauses while Elasticsearch is unreachable, commits nothing unwritten, and loses nothing', async () => {
    const f = await fixture();
    const proxy = await elasticsearchProxy();
    const groupId = randomName('lf-sink-group');
    const sink = await startSink(f, { node: proxy.url, groupId });
    const first = makeLogs(0, 1_000, 'outage');
    await produce(f, first);
    await waitFor(() => committed(groupId, f.topic).then((n) => n === 1_000), {
      timeoutMs: 60_000,
      what: 'first half',
    });

    await proxy.cut();
    const second = makeLogs(1_000, 2_000, 'outage');
    await produce(f, second);
    await waitFor(() => sink.getStats().failedRequests >= 2 && sink.getStats().paused, {
      timeoutMs: 30_000,
      what: 'sink paused on failures',
    });
    expect(sink.getStats().targetUp).toBe(false);
    expect(await committed(groupId, f.topic)).toBe(1_000);

    await proxy.restore();
    await waitFor(() => committed(groupId, f.topic).then((n) => n === 3_000), {
      timeoutMs: 90_000,
      what: 'caught up',
    });
    expect(await indexedIds(f.prefix)).toEqual([...first, ...second].map((l) => l.id).sort());
    expect(sink.getStats()).toMatchObject({ targetUp: true, paused: false, deadLettered: 0 });
  });

  it('deletes daily indices older than the retention period', async () => {
    const f = await fixture(1);
    const name = (d: Date) =>
      `${f.prefix}-${d.getUTCFullYear()}.${String(d.getUTCMonth() + 1).padStart(2, '0')}.${String(d.getUTCDate()).padStart(2, '0')}`;
    const old = name(new Date(Date.now() - 10 * DAY));
    const recent = name(new Date(Date.now() - 2 * DAY));
    await client.indices.create({ index: old });
    await client.indices.create({ index: recent });
    await client.indices.create({ index: `${f.prefix}-not-a-day` });
    const sink = createElasticsearchSink({
      transport,
      serde: f.serde,
      node: esUrl,
      indexPrefix: f.prefix,
      topic: f.topic,
      retentionDays: 7,
    });
    registerCleanup(() => sink.stop());
    expect(await sink.sweepRetention()).toEqual([old]);
    const left = await client.cat.indices({ index: `${f.prefix}-*`, format: 'json', h: 'index' });
    expect(left.map((i) => i.index).sort()).toEqual([`${f.prefix}-not-a-day`, recent].sort());
  });
});
