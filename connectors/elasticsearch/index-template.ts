/**
 * The composable index template behind every daily log index `<prefix>-YYYY.MM.DD`.
 *
 * Storage choices (measured by `npm run bench -- ingest`, target ≤ 150 bytes per log):
 * - `message` is text with `index_options: docs` and no norms: searches are word-ANDs sorted by
 *   time, so positions, frequencies and length norms would be paid for and never used.
 * - `id` is only a doc-values column (for the search_after tie-break); lookups by id use `_id`.
 * - `error_key` (first line of ERROR/FATAL messages) is a doc-values-only keyword for topErrors;
 *   other logs do not have it. Source fields are filterable but not aggregatable (no doc values).
 * - `ingested_at` is kept in `_source` only. `extra_fields` is `flattened` (one field, any keys).
 * - `_source` is kept whole, so get, reindex and Kibana work; `best_compression` shrinks it.
 * - `dynamic: strict`: a document with an unknown field is rejected (to the dead-letter topic),
 *   never silently mapped.
 */
import type { Client } from '@elastic/elasticsearch';

export interface IndexTemplateOptions {
  /** Default `1s`; bulk loads may use `30s` or `-1`. */
  refreshInterval?: string;
  /** Default 0: a single-node cluster cannot place replicas. */
  replicas?: number;
  shards?: number;
}

/**
 * Above Elasticsearch's built-in `logs` template (priority 100, `logs-*-*`): composable templates
 * with overlapping patterns must not share a priority.
 */
export const TEMPLATE_PRIORITY = 200;
export const ERROR_KEY_IGNORE_ABOVE = 1024;

export function templateName(prefix: string): string {
  return `${prefix}-template`;
}

export function logIndexTemplate(prefix: string, options: IndexTemplateOptions = {}) {
  return {
    name: templateName(prefix),
    index_patterns: [`${prefix}-*`],
    priority: TEMPLATE_PRIORITY,
    _meta: { description: 'LogFlow daily log indices', managed_by: 'logflow' },
    template: {
      settings: {
        'index.codec': 'best_compression',
        'index.number_of_shards': options.shards ?? 1,
        'index.number_of_replicas': options.replicas ?? 0,
        'index.refresh_interval': options.refreshInterval ?? '1s',
        'index.query.default_field': ['message'],
      },
      mappings: {
        dynamic: 'strict' as const,
        properties: {
          // Doc values only (the default when not indexed is still doc_values: true).
          id: { type: 'keyword' as const, index: false },
          timestamp: { type: 'date' as const, format: 'epoch_millis||strict_date_optional_time' },
          level: { type: 'keyword' as const, ignore_above: 64 },
          service: { type: 'keyword' as const, ignore_above: 256 },
          message: { type: 'text' as const, norms: false, index_options: 'docs' as const },
          error_key: {
            type: 'keyword' as const,
            index: false,
            ignore_above: ERROR_KEY_IGNORE_ABOVE,
          },
          source: {
            properties: {
              hostname: { type: 'keyword' as const, doc_values: false, ignore_above: 256 },
              file: { type: 'keyword' as const, doc_values: false, ignore_above: 1024 },
            },
          },
          extra_fields: { type: 'flattened' as const, doc_values: false, ignore_above: 1024 },
          ingested_at: {
            type: 'date' as const,
            format: 'epoch_millis||strict_date_optional_time',
            index: false,
            doc_values: false,
          },
        },
      },
    },
  };
}

/** Creates or updates the template (idempotent; existing indices keep their mappings). */
export async function putLogIndexTemplate(
  client: Client,
  prefix: string,
  options: IndexTemplateOptions = {},
): Promise<void> {
  await client.indices.putIndexTemplate(logIndexTemplate(prefix, options));
}

export async function deleteLogIndexTemplate(client: Client, prefix: string): Promise<void> {
  await client.indices.deleteIndexTemplate({ name: templateName(prefix) }, { ignore: [404] });
}
