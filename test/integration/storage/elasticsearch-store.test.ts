/**
 * The search-store contract against the real Elasticsearch (same fixtures and expectations as
 * SQLite), plus what only Elasticsearch has: the index template, daily indices, tokenisation
 * parity with the standard analyzer.
 */
import { Client } from '@elastic/elasticsearch';
import { afterAll, describe, expect, it } from 'vitest';
import { logIndexTemplate } from '../../../connectors/elasticsearch/index-template.ts';
import { ElasticsearchLogStore } from '../../../storage/logs/elasticsearch-store.ts';
import { standardTokens } from '../../../storage/logs/standard-tokenizer.ts';
import type { LogSearchStore } from '../../../storage/logs/types.ts';
import { randomName } from '../../helpers/names.ts';
import { serviceConfig } from '../../helpers/services.ts';
import { searchStoreContract } from '../../unit/storage/search-contract.ts';
import { FIXTURES, SPECIAL } from '../../unit/storage/search-fixtures.ts';

const client = new Client({ node: serviceConfig().elasticsearchUrl });
afterAll(() => client.close());

searchStoreContract('elasticsearch', {
  async open() {
    // A random prefix (never starting with `logs-`) keeps this test's indices and template apart.
    return new ElasticsearchLogStore({ client, indexPrefix: randomName('lfit-store') });
  },
  async dispose(store: LogSearchStore) {
    await (store as ElasticsearchLogStore).destroy();
    await store.close();
  },
});

describe('ElasticsearchLogStore specifics', () => {
  it('writes daily indices made from the template', async () => {
    const store = new ElasticsearchLogStore({ client, indexPrefix: randomName('lfit-daily') });
    try {
      await store.index(FIXTURES);
      const indices = await client.cat.indices({
        index: `${store.indexPrefix}-*`,
        format: 'json',
        h: 'index',
      });
      expect(indices.map((i) => i.index).sort()).toEqual([
        `${store.indexPrefix}-2026.01.14`,
        `${store.indexPrefix}-2026.01.15`,
      ]);
      const settings = await client.indices.getSettings({
        index: `${store.indexPrefix}-2026.01.15`,
        flat_settings: true,
      });
      const flat = Object.values(settings)[0].settings as Record<string, string>;
      expect(flat['index.codec']).toBe('best_compression');
      expect(flat['index.number_of_replicas']).toBe('0');
      const mapping = await client.indices.getMapping({ index: `${store.indexPrefix}-2026.01.15` });
      expect(Object.values(mapping)[0].mappings).toMatchObject(
        logIndexTemplate(store.indexPrefix).template.mappings,
      );
      // dynamic: strict — an unknown field is refused, not mapped.
      await expect(
        client.index({ index: `${store.indexPrefix}-2026.01.15`, document: { ...SPECIAL[0], surprise: 1 } }),
      ).rejects.toThrow(/strict_dynamic_mapping_exception|not allowed/);
    } finally {
      await store.destroy();
    }
  });

  it('tokenises exactly like the standard analyzer (so SQLite and Elasticsearch match the same words)', async () => {
    const texts = [
      ...FIXTURES.map((l) => l.message),
      'GET /api/v1/orders/48213?expand=items 200 OK in 12.5ms',
      "user's token=abc_DEF-123 failed: E1042 at 2026-01-15T10:00:00.123Z",
      'ERR_CONN_RESET at com.acme.Foo.bar(Foo.java:42) caused by java.io.IOException',
      'São Paulo naïve façade ÆØÅ ß İstanbul ΟΔΥΣΣΕΥΣ',
      'ids 1,000,000 and 3.14.15 v2.0-beta __init__ _x_ a._b x:y:z',
      'mail@example.com http://example.com/path?q=1#frag 192.168.0.1:8080',
      'ひらがな カタカナ 漢字テスト 한국어',
    ];
    for (const text of texts) {
      const { tokens } = await client.indices.analyze({ analyzer: 'standard', text });
      const expected = (tokens ?? []).map((t) => t.token).sort();
      expect(standardTokens(text).sort(), text).toEqual(expected);
    }
  });

  it('answers ping false when Elasticsearch is unreachable', async () => {
    const store = new ElasticsearchLogStore({
      node: 'http://127.0.0.1:9',
      indexPrefix: randomName('lfit-none'),
    });
    expect(await store.ping()).toBe(false);
    await expect(store.count()).rejects.toMatchObject({
      code: 'LF_ERR_SERVICE_UNAVAILABLE',
      retriable: true,
    });
    await store.close();
  });
});
