/**
 * The sink's delivery logic on the in-memory transport, with Elasticsearch's answers scripted
 * through the BulkApi seam (the real client is exercised by the integration tests).
 */
import type { estypes } from '@elastic/elasticsearch';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { BulkApi } from '../../../connectors/elasticsearch/bulk-api.ts';
import {
  createElasticsearchSink,
  DEAD_LETTER_HEADERS,
  type ElasticsearchSink,
} from '../../../connectors/elasticsearch/sink.ts';
import type { ParsedLog } from '../../../storage/logs/types.ts';
import { Serdes } from '../../../topology/serdes/index.ts';
import { MemoryTransport } from '../../../topology/transport/memory-transport.ts';
import type { IncomingMessage } from '../../../topology/transport/transport.ts';
import { waitFor } from '../../helpers/wait-for.ts';

const serde = Serdes.Json<ParsedLog>();
const T = Date.UTC(2026, 0, 15, 10, 0, 0);

function makeLog(i: number, patch: Partial<ParsedLog> = {}): ParsedLog {
  return {
    id: `log-${i}`,
    timestamp: T + i,
    level: 'INFO',
    service: 'api',
    message: `message ${i}`,
    source: { hostname: 'h', file: '/f.log' },
    extra_fields: {},
    ingested_at: T + i + 1,
    ...patch,
  };
}

type Behaviour = 'ok' | 'down';

/** A scripted Elasticsearch: create-by-id semantics, outages, throttled and rejected items. */
class FakeElasticsearch implements BulkApi {
  readonly docs = new Map<string, { index: string; source: Record<string, unknown> }>();
  behaviour: Behaviour = 'ok';
  requests = 0;
  /** id → how many more times the item answers 429. */
  throttle = new Map<string, number>();
  /** ids whose item answers 400 (mapping error). */
  reject = new Set<string>();
  deletedBefore: number[] = [];

  async bulk(lines: string[]) {
    this.requests++;
    if (this.behaviour === 'down')
      throw Object.assign(new Error('connect ECONNREFUSED'), { name: 'ConnectionError' });
    const items: estypes.BulkResponseItem[] = [];
    for (let i = 0; i < lines.length; i += 2) {
      const { create } = JSON.parse(lines[i]) as { create: { _index: string; _id: string } };
      const id = create._id;
      const left = this.throttle.get(id) ?? 0;
      if (left > 0) {
        this.throttle.set(id, left - 1);
        items.push({
          _index: create._index,
          _id: id,
          status: 429,
          error: { type: 'es_rejected_execution_exception', reason: 'busy' },
        });
      } else if (this.reject.has(id)) {
        items.push({
          _index: create._index,
          _id: id,
          status: 400,
          error: { type: 'document_parsing_exception', reason: 'failed to parse field [level]' },
        });
      } else if (this.docs.has(id)) {
        items.push({
          _index: create._index,
          _id: id,
          status: 409,
          error: { type: 'version_conflict_engine_exception', reason: 'exists' },
        });
      } else {
        this.docs.set(id, { index: create._index, source: JSON.parse(lines[i + 1]) });
        items.push({ _index: create._index, _id: id, status: 201 });
      }
    }
    return { items };
  }

  templatePuts = 0;
  async putTemplate() {
    if (this.behaviour === 'down') throw new Error('connect ECONNREFUSED');
    this.templatePuts++;
    return undefined;
  }

  async deleteIndicesOlderThan(cutoffMs: number) {
    this.deletedBefore.push(cutoffMs);
    return [];
  }
}

let transport: MemoryTransport;
let sink: ElasticsearchSink | undefined;

afterEach(async () => {
  await sink?.stop();
  await transport?.close();
  sink = undefined;
});

async function setup(
  es: FakeElasticsearch,
  options: { maxRecords?: number; maxBuffered?: number; partitions?: number; registry?: Registry } = {},
) {
  transport = new MemoryTransport();
  await transport.ensureTopics([
    { name: 'logs-parsed', partitions: options.partitions ?? 2 },
    { name: 'logs-dlq', partitions: 1 },
  ]);
  sink = createElasticsearchSink({
    transport,
    serde,
    bulkApi: es,
    indexPrefix: 'logs',
    batch: { maxRecords: options.maxRecords ?? 50, lingerMs: 10 },
    maxBufferedRecords: options.maxBuffered,
    retry: { initialMs: 5, maxMs: 20 },
    retentionDays: 7,
    stopTimeoutMs: 500,
    registry: options.registry,
  });
  await sink.start();
  return sink;
}

async function produce(logs: (ParsedLog | Buffer | null)[]) {
  const producer = transport.producer();
  await producer.connect();
  await producer.send(
    logs.map((l, i) => ({
      topic: 'logs-parsed',
      key: Buffer.from(l && !Buffer.isBuffer(l) ? l.id : `k${i}`),
      value: l === null ? null : Buffer.isBuffer(l) ? l : serde.serialize('logs-parsed', l),
    })),
  );
  await producer.disconnect();
}

async function committedTotal(): Promise<number> {
  const offsets = await transport.committedOffsets('logflow-elasticsearch-sink', 'logs-parsed');
  return offsets.reduce((n, o) => n + Math.max(0, o.offset), 0);
}

async function readDlq(): Promise<IncomingMessage[]> {
  const out: IncomingMessage[] = [];
  for await (const chunk of transport.readPartition('logs-dlq', 0)) out.push(...chunk);
  return out;
}

describe('ElasticsearchSink', () => {
  it('writes every log to its daily index with its id, then commits', async () => {
    const es = new FakeElasticsearch();
    const registry = new Registry();
    await setup(es, { registry });
    const logs = Array.from({ length: 230 }, (_, i) => makeLog(i, { timestamp: T + (i % 2) * 86_400_000 }));
    await produce(logs);
    await waitFor(() => es.docs.size === 230 && committedTotal().then((n) => n === 230), {
      what: 'all written and committed',
    });
    expect(es.docs.get('log-1')).toEqual({
      index: 'logs-2026.01.16',
      source: expect.objectContaining({ id: 'log-1', timestamp: T + 86_400_000, message: 'message 1' }),
    });
    expect(es.docs.get('log-0')?.index).toBe('logs-2026.01.15');
    // Bulks were cut by count.
    expect(es.requests).toBeGreaterThanOrEqual(5);
    expect(sink!.getStats()).toMatchObject({ written: 230, deadLettered: 0, buffered: 0 });
    const metrics = await registry.getSingleMetricAsString('logflow_sink_records_total');
    expect(metrics).toContain('logflow_sink_records_total{sink="elasticsearch",result="written"} 230');
  });

  it('counts replays as written without duplicating them', async () => {
    const es = new FakeElasticsearch();
    await setup(es);
    const logs = Array.from({ length: 40 }, (_, i) => makeLog(i));
    await produce(logs);
    await produce(logs.slice(0, 25));
    await waitFor(() => committedTotal().then((n) => n === 65), { what: 'replays committed' });
    expect(es.docs.size).toBe(40);
    expect(sink!.getStats()).toMatchObject({ written: 40, duplicates: 25 });
  });

  it('retries only the throttled items and dead-letters rejected ones with their original bytes', async () => {
    const es = new FakeElasticsearch();
    es.throttle.set('log-3', 3);
    es.throttle.set('log-7', 1);
    es.reject.add('log-5');
    await setup(es, { partitions: 1 });
    const logs = Array.from({ length: 10 }, (_, i) => makeLog(i));
    await produce(logs);
    await waitFor(() => committedTotal().then((n) => n === 10), { what: 'batch committed' });
    expect([...es.docs.keys()].sort()).toEqual(
      logs
        .filter((l) => l.id !== 'log-5')
        .map((l) => l.id)
        .sort(),
    );
    const dlq = await readDlq();
    expect(dlq).toHaveLength(1);
    expect(dlq[0].value).toEqual(serde.serialize('logs-parsed', logs[5]));
    expect(dlq[0].headers[DEAD_LETTER_HEADERS.code]?.toString()).toBe('LF_ERR_SINK_REJECTED');
    expect(dlq[0].headers[DEAD_LETTER_HEADERS.status]?.toString()).toBe('400');
    expect(dlq[0].headers[DEAD_LETTER_HEADERS.reason]?.toString()).toContain('failed to parse field [level]');
    expect(dlq[0].headers[DEAD_LETTER_HEADERS.offset]?.toString()).toBe('5');
    expect(sink!.getStats()).toMatchObject({ written: 9, deadLettered: 1, retriedItems: 4 });
  });

  it('dead-letters undecodable and unindexable records and skips tombstones, never stopping', async () => {
    const es = new FakeElasticsearch();
    await setup(es, { partitions: 1 });
    await produce([
      makeLog(1),
      Buffer.from('{not json'),
      null,
      makeLog(2, { id: 'x'.repeat(600) }),
      makeLog(3, { timestamp: Number.NaN }),
      makeLog(4),
    ]);
    await waitFor(() => committedTotal().then((n) => n === 6), { what: 'all six committed' });
    expect([...es.docs.keys()].sort()).toEqual(['log-1', 'log-4']);
    const dlq = await readDlq();
    expect(dlq.map((m) => m.headers[DEAD_LETTER_HEADERS.code]?.toString())).toEqual([
      'LF_ERR_SERDE_DESERIALIZE',
      'LF_ERR_SINK_REJECTED',
      'LF_ERR_SINK_REJECTED',
    ]);
    expect(dlq[0].value?.toString()).toBe('{not json');
  });

  it('pauses while Elasticsearch is down, commits nothing, and catches up when it returns', async () => {
    const es = new FakeElasticsearch();
    es.behaviour = 'down';
    await setup(es, { maxRecords: 20, maxBuffered: 40 });
    await produce(Array.from({ length: 300 }, (_, i) => makeLog(i)));
    await waitFor(() => sink!.getStats().failedRequests >= 3 && sink!.getStats().paused, {
      what: 'sink paused',
    });
    expect(sink!.getStats().targetUp).toBe(false);
    expect(await committedTotal()).toBe(0);
    // Paused: the buffer stays bounded instead of reading the whole topic.
    expect(sink!.getStats().buffered).toBeLessThanOrEqual(40 + 50);
    es.behaviour = 'ok';
    await waitFor(() => committedTotal().then((n) => n === 300), { timeoutMs: 15_000, what: 'caught up' });
    expect(es.docs.size).toBe(300);
    expect(sink!.getStats()).toMatchObject({ targetUp: true, paused: false, written: 300 });
    // After an outage the template is put again: the cluster may have come back without it.
    const puts = es.templatePuts;
    es.behaviour = 'down';
    await produce([makeLog(1000)]);
    await waitFor(() => !sink!.getStats().targetUp, { what: 'down again' });
    es.behaviour = 'ok';
    await waitFor(() => es.docs.has('log-1000'), { what: 'written after the second outage' });
    expect(es.templatePuts).toBe(puts + 1);
  });

  it('on stop during an outage commits nothing unwritten, and a new sink delivers it', async () => {
    const es = new FakeElasticsearch();
    await setup(es, { partitions: 1 });
    await produce(Array.from({ length: 10 }, (_, i) => makeLog(i)));
    await waitFor(() => committedTotal().then((n) => n === 10), { what: 'first ten' });
    es.behaviour = 'down';
    await produce(Array.from({ length: 10 }, (_, i) => makeLog(100 + i)));
    await waitFor(() => sink!.getStats().failedRequests >= 3, { what: 'failing bulks' });
    await sink!.stop();
    expect(await committedTotal()).toBe(10);
    es.behaviour = 'ok';
    const second = createElasticsearchSink({
      transport,
      serde,
      bulkApi: es,
      batch: { lingerMs: 5 },
      retry: { initialMs: 5 },
    });
    sink = second;
    await second.start();
    await waitFor(() => committedTotal().then((n) => n === 20), { what: 'second sink caught up' });
    expect(es.docs.size).toBe(20);
  });

  it('sweeps retention with a cutoff of retentionDays', async () => {
    const es = new FakeElasticsearch();
    const before = Date.now();
    await setup(es);
    await waitFor(() => es.deletedBefore.length > 0, { what: 'initial sweep' });
    expect(es.deletedBefore[0]).toBeGreaterThanOrEqual(before - 7 * 86_400_000);
    expect(es.deletedBefore[0]).toBeLessThanOrEqual(Date.now() - 7 * 86_400_000);
  });

  it('rejects a nonsensical batch configuration', () => {
    expect(() =>
      createElasticsearchSink({
        transport: new MemoryTransport(),
        serde,
        bulkApi: new FakeElasticsearch(),
        batch: { maxRecords: 0 },
      }),
    ).toThrow(expect.objectContaining({ code: 'LF_ERR_CONFIG_INVALID' }));
  });
});
