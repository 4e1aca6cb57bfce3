/**
 * The three Elasticsearch calls the sink makes, behind a small interface so unit tests can drive
 * the sink's retry and dead-letter logic with scripted responses (integration tests use the real
 * client through `clientBulkApi`).
 */
import type { Client, estypes } from '@elastic/elasticsearch';
import { type IndexTemplateOptions, putLogIndexTemplate } from './index-template.ts';
import { deleteIndicesOlderThan } from './retention.ts';

export interface BulkResult {
  items: estypes.BulkResponseItem[];
}

export interface BulkApi {
  /** Sends NDJSON lines (action, source, action, source …). Throws when the request itself fails. */
  bulk(lines: string[]): Promise<BulkResult>;
  putTemplate(): Promise<void>;
  /** Deletes daily indices wholly older than the cutoff; returns their names. */
  deleteIndicesOlderThan(cutoffMs: number): Promise<string[]>;
}

export function clientBulkApi(
  client: Client,
  indexPrefix: string,
  template: IndexTemplateOptions = {},
): BulkApi {
  return {
    async bulk(lines) {
      const response = await client.bulk({ operations: lines });
      return { items: response.items.map((entry) => Object.values(entry)[0]!) };
    },
    putTemplate: () => putLogIndexTemplate(client, indexPrefix, template),
    deleteIndicesOlderThan: (cutoffMs) => deleteIndicesOlderThan(client, indexPrefix, cutoffMs),
  };
}
