/**
 * Proves Elasticsearch is the real engine: bulk-indexed documents are found by a full-text match
 * (analysed text, case-insensitive) and counted by a terms aggregation and a date histogram, with
 * search_after paging over a composable index template using best_compression.
 */
import { describe, expect, it } from 'vitest';
import { elasticsearch, indexName } from '../../helpers/services.ts';

const services = ['auth', 'payment', 'search', 'auth', 'auth', 'payment'];

describe('elasticsearch smoke', () => {
  it('bulk indexes, then finds by full-text match and counts by terms aggregation', async () => {
    const es = elasticsearch();
    const index = indexName('lf-smoke-logs');
    const template = `${index}-template`;
    await es.indices.putIndexTemplate({
      name: template,
      index_patterns: [index],
      template: {
        settings: { 'index.codec': 'best_compression', number_of_shards: 1, number_of_replicas: 0 },
        mappings: {
          properties: {
            '@timestamp': { type: 'date' },
            service: { type: 'keyword' },
            level: { type: 'keyword' },
            message: { type: 'text' },
          },
        },
      },
    });
    try {
      const operations = services.flatMap((service, i) => [
        { index: { _index: index, _id: `doc-${i}` } },
        {
          '@timestamp': new Date(Date.UTC(2026, 0, 1, 0, i)).toISOString(),
          service,
          level: i % 2 === 0 ? 'ERROR' : 'INFO',
          message: i % 3 === 0 ? `User LOGIN failed for user-${i}` : `request ${i} served`,
        },
      ]);
      const bulk = await es.bulk({ operations, refresh: 'wait_for' });
      expect(bulk.errors).toBe(false);

      const settings = await es.indices.getSettings({ index });
      expect(settings[index].settings?.index?.codec).toBe('best_compression');

      const found = await es.search({
        index,
        query: { match: { message: 'login' } },
        sort: [{ '@timestamp': 'asc' }],
        aggs: {
          by_service: { terms: { field: 'service' } },
          per_minute: { date_histogram: { field: '@timestamp', fixed_interval: '1m' } },
        },
      });
      expect(found.hits.hits.map((h) => h._id)).toEqual(['doc-0', 'doc-3']);

      const all = await es.search({
        index,
        size: 0,
        aggs: { by_service: { terms: { field: 'service' } } },
      });
      const byService = all.aggregations?.by_service as { buckets: { key: string; doc_count: number }[] };
      const buckets = byService.buckets;
      expect(buckets).toEqual([
        { key: 'auth', doc_count: 3 },
        { key: 'payment', doc_count: 2 },
        { key: 'search', doc_count: 1 },
      ]);
      const perMinute = found.aggregations?.per_minute as { buckets: { doc_count: number }[] };
      const minutes = perMinute.buckets;
      expect(minutes.map((b) => b.doc_count)).toEqual([1, 0, 0, 1]);

      // search_after pages by the sort values of the last hit (timestamp, then a keyword tiebreak).
      const first = await es.search({ index, size: 2, sort: [{ '@timestamp': 'asc' }, { service: 'asc' }] });
      const next = await es.search({
        index,
        size: 2,
        sort: [{ '@timestamp': 'asc' }, { service: 'asc' }],
        search_after: first.hits.hits.at(-1)!.sort,
      });
      expect([...first.hits.hits, ...next.hits.hits].map((h) => h._id)).toEqual([
        'doc-0',
        'doc-1',
        'doc-2',
        'doc-3',
      ]);
    } finally {
      await es.indices.deleteIndexTemplate({ name: template });
    }
  });
});
