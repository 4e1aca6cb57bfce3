/**
 * The Elasticsearch sink brings daily indices created under an older template up to the current
 * one: on real Elasticsearch (random index prefix) an index whose strict mapping lacks fields the
 * template has since gained gets them (PUT _mapping) before the sink writes, so a log carrying one
 * of those fields is indexed instead of dead-lettered.
 */
import { Client } from '@elastic/elasticsearch';
import { afterAll, describe, expect, it } from 'vitest';
import { clientBulkApi } from '../../../connectors/elasticsearch/bulk-api.ts';
import {
  addTemplateFieldsToIndices,
  logIndexTemplate,
  missingProperties,
} from '../../../connectors/elasticsearch/index-template.ts';
import { createElasticsearchSink } from '../../../connectors/elasticsearch/sink.ts';
import type { ParsedLog } from '../../../storage/logs/types.ts';
import { AvroSerde } from '../../../topology/serdes/avro-serde.ts';
import { SchemaRegistryClient } from '../../../topology/serdes/schema-registry.ts';
import { KafkaTransport } from '../../../topology/transport/kafka-transport.ts';
import type { IncomingMessage } from '../../../topology/transport/transport.ts';
import { randomName } from '../../helpers/names.ts';
import { createTopic, registerCleanup, registryUrl, serviceConfig } from '../../helpers/services.ts';
import { waitFor } from '../../helpers/wait-for.ts';

const esUrl = serviceConfig().elasticsearchUrl;
const client = new Client({ node: esUrl });
afterAll(() => client.close());

const DAY = Date.UTC(2024, 2, 5);

/**
 * Creates `<prefix>-2024.03.05` as an older template would have: the current mapping (strict)
 * without `error_key` and without `source.file`.
 */
async function createOldDailyIndex(prefix: string): Promise<string> {
  const index = `${prefix}-2024.03.05`;
  const { mappings, settings } = logIndexTemplate(prefix).template;
  const { error_key: _errorKey, source, ...rest } = mappings.properties;
  const { file: _file, ...sourceRest } = source.properties;
  registerCleanup(async () => {
    await client.indices.delete({ index: `${prefix}-*`, expand_wildcards: 'all' }, { ignore: [404] });
    await client.indices.deleteIndexTemplate({ name: `${prefix}-template` }, { ignore: [404] });
  });
  await client.indices.create({
    index,
    settings: {
      'index.number_of_shards': 1,
      'index.number_of_replicas': settings['index.number_of_replicas'],
    },
    mappings: { ...mappings, properties: { ...rest, source: { properties: sourceRest } } },
  });
  return index;
}

function errorLog(id: string): ParsedLog {
  return {
    id,
    timestamp: DAY + 3_600_000,
    level: 'ERROR',
    service: 'payments',
    message: 'charge failed: card declined E402',
    source: { hostname: 'it-host', file: '/var/log/payments.log' },
    extra_fields: { error_code: 'E402' },
    ingested_at: DAY + 3_600_100,
  };
}

async function mappedFields(index: string): Promise<{ errorKey: boolean; sourceFile: boolean }> {
  const r = await client.indices.getMapping({ index });
  const props = r[index].mappings.properties ?? {};
  const source = props.source as { properties?: Record<string, unknown> } | undefined;
  return { errorKey: 'error_key' in props, sourceFile: 'file' in (source?.properties ?? {}) };
}

describe('Elasticsearch sink: new template fields reach existing daily indices', () => {
  it('missingProperties lists only absent fields, recursively, and nothing when all are mapped', () => {
    const wanted = {
      a: { type: 'keyword' },
      o: { properties: { x: { type: 'long' }, y: { type: 'long' } } },
    };
    expect(
      missingProperties(wanted, { a: { type: 'text' }, o: { properties: { x: { type: 'long' } } } }),
    ).toEqual({ o: { properties: { y: { type: 'long' } } } });
    expect(missingProperties(wanted, undefined)).toEqual(wanted);
    expect(missingProperties(wanted, wanted)).toBeUndefined();
  });

  it('adds the missing fields to old daily indices only, once', async () => {
    const prefix = randomName('lfit-mapping');
    const index = await createOldDailyIndex(prefix);
    // Not a daily index of this prefix: left alone even though `<prefix>-*` matches it.
    const other = `${prefix}-archive`;
    await client.indices.create({ index: other, mappings: { dynamic: 'strict', properties: {} } });
    const api = clientBulkApi(client, prefix);

    // Before: the strict mapping rejects a log carrying error_key (what used to be dead-lettered).
    const line = (id: string) => [
      JSON.stringify({ create: { _index: index, _id: id } }),
      JSON.stringify({ timestamp: DAY, level: 'ERROR', message: 'x', error_key: 'x', source: { file: 'f' } }),
    ];
    const before = await api.bulk(line('before'));
    expect(before.items[0].status).toBe(400);
    expect(before.items[0].error?.type).toBe('strict_dynamic_mapping_exception');

    const update = await api.putTemplate();
    expect(update).toEqual({ updated: [index], failed: [] });
    expect(await mappedFields(index)).toEqual({ errorKey: true, sourceFile: true });
    const otherMapping = await client.indices.getMapping({ index: other });
    expect(otherMapping[other].mappings.properties ?? {}).toEqual({});

    const after = await api.bulk(line('after'));
    expect(after.items[0].status).toBe(201);
    // Idempotent: a second start finds nothing to add.
    expect(await addTemplateFieldsToIndices(client, prefix)).toEqual({ updated: [], failed: [] });
  });

  it('a running sink writes logs with the new fields into the old index instead of dead-lettering them', async () => {
    const prefix = randomName('lfit-mapping-sink');
    const index = await createOldDailyIndex(prefix);
    const topic = await createTopic({ prefix: 'lf-mapping-in', partitions: 1 });
    const dlq = await createTopic({ prefix: 'lf-mapping-dlq', partitions: 1 });
    const transport = new KafkaTransport({ clientId: randomName('lf-mapping-it') });
    registerCleanup(() => transport.close());
    const registry = new SchemaRegistryClient({ url: registryUrl() });
    const serde = new AvroSerde<ParsedLog>({ registry, schema: 'logs-parsed' });
    registerCleanup(async () => {
      const base = `${registryUrl()}/subjects/${encodeURIComponent(`${topic}-value`)}`;
      await fetch(base, { method: 'DELETE' });
      await fetch(`${base}?permanent=true`, { method: 'DELETE' });
    });

    const logs = [errorLog(randomName('err-a')), errorLog(randomName('err-b'))];
    const producer = transport.producer();
    await producer.connect();
    const messages = [];
    for (const log of logs) messages.push({ topic, key: null, value: (await serde.serialize(topic, log))! });
    await producer.send(messages);
    await producer.disconnect();

    const sink = createElasticsearchSink({
      transport,
      serde,
      node: esUrl,
      indexPrefix: prefix,
      topic,
      deadLetterTopic: dlq,
      groupId: randomName('lf-mapping-group'),
      batch: { maxRecords: 100, lingerMs: 20 },
      stopTimeoutMs: 2_000,
    });
    registerCleanup(() => sink.stop());
    await sink.start();

    await waitFor(() => sink.getStats().written + sink.getStats().deadLettered >= logs.length, {
      what: 'both logs delivered',
    });
    expect(sink.getStats()).toMatchObject({ written: 2, deadLettered: 0 });
    await client.indices.refresh({ index });
    const found = await client.search<{ error_key?: string; source: { file: string } }>({
      index,
      query: { ids: { values: logs.map((l) => l.id) } },
    });
    expect(found.hits.hits.map((h) => h._source?.error_key)).toEqual([
      'charge failed: card declined E402',
      'charge failed: card declined E402',
    ]);
    const dead: IncomingMessage[] = [];
    for await (const chunk of transport.readPartition(dlq, 0)) dead.push(...chunk);
    expect(dead).toEqual([]);
  });
});
