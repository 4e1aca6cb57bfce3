/**
 * The composable index template behind every daily log index `<prefix>-YYYY.MM.DD`.
 *
 * Storage choices (measured by `npm run bench -- ingest`, target ≤ 150 bytes per log):
 * - `message` is text with `index_options: docs` and no norms: searches are word-ANDs sorted by
 *   time, so positions, frequencies and length norms would be paid for and never used.
 * - `id` lives in `_source` only (lookups by id use `_id`); the search_after tie-break is
 *   `sort_key`, 52 bits of the id's hash as a doc-values-only long (8 bytes, not ~33).
 * - `error_key` (first line of ERROR/FATAL messages) is a doc-values-only keyword for topErrors;
 *   other logs do not have it. Source fields are filterable but not aggregatable (no doc values).
 * - `ingested_at` and `extra_fields` are kept in `_source` only (`extra_fields` is an object with
 *   `enabled: false`): the parse stage takes key=value pairs out of the message, so they are
 *   already searchable as words of `message`; indexing them again (as `flattened`) cost ~20 bytes
 *   per log in the ingest bench.
 * - `_source` keeps every field except `id` and `sort_key`, which are derived from `_id`;
 *   `best_compression` shrinks the rest.
 * - `dynamic: strict`: a document with an unknown field is rejected (to the dead-letter topic),
 *   never silently mapped.
 */
import type { Client } from '@elastic/elasticsearch';
import { dailyIndexDay } from './log-document.ts';

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
        // Both are `_id` again (sort_key is a hash of it): as stored fields they would cost ~30
        // incompressible bytes per log. Documents keep every field but these two; a reindex
        // restores them with `ctx._source.id = ctx._id;
        // ctx._source.sort_key = Long.parseLong(ctx._id.sha1().substring(0, 13), 16)`.
        _source: { excludes: ['id', 'sort_key'] },
        properties: {
          // Lookups use `_id`, ordering uses sort_key (a 32-char id as doc values costs ~33 bytes
          // per log); the field stays mapped so documents carrying it validate under `strict`.
          id: { type: 'keyword' as const, index: false, doc_values: false },
          sort_key: { type: 'long' as const, index: false },
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
          extra_fields: { type: 'object' as const, enabled: false },
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

/** A mapping's `properties` (field name → definition, objects with their own `properties`). */
type Properties = Record<string, { properties?: Properties } & Record<string, unknown>>;

/**
 * The template's fields an index does not map yet (recursively into object fields), or undefined
 * when it maps them all. Fields it maps already are left out even where their parameters differ:
 * Elasticsearch refuses most parameter changes on a live index, and the old ones keep working.
 */
export function missingProperties(
  wanted: Properties,
  present: Properties | undefined,
): Properties | undefined {
  let missing: Properties | undefined;
  for (const [name, def] of Object.entries(wanted)) {
    const have = present?.[name];
    if (have === undefined) {
      missing ??= {};
      missing[name] = def;
    } else if (def.properties && have.properties) {
      const inner = missingProperties(def.properties, have.properties);
      if (inner) {
        missing ??= {};
        missing[name] = { properties: inner };
      }
    }
  }
  return missing;
}

export interface MappingUpdate {
  /** Daily indices that got new fields. */
  updated: string[];
  /** Daily indices Elasticsearch refused to update, with its reason. */
  failed: { index: string; reason: string }[];
}

/**
 * Adds the template's new fields to the daily indices that exist already (PUT _mapping), so an
 * index created under an older template — `dynamic: strict` — accepts documents carrying a field
 * added since, instead of rejecting every one of them to the dead-letter topic until the next day's
 * index. Only fields an index lacks are sent; a refusal of one index does not stop the others.
 * Throws only when the indices cannot be listed (Elasticsearch unreachable).
 */
export async function addTemplateFieldsToIndices(client: Client, prefix: string): Promise<MappingUpdate> {
  const wanted = logIndexTemplate(prefix).template.mappings.properties as unknown as Properties;
  const mappings = await client.indices.getMapping({
    index: `${prefix}-*`,
    expand_wildcards: 'open',
    allow_no_indices: true,
    ignore_unavailable: true,
  });
  const result: MappingUpdate = { updated: [], failed: [] };
  for (const [index, { mappings: current }] of Object.entries(mappings)) {
    // `<prefix>-*` also matches other families' indices (`logs-*` matches data streams' backing indices).
    if (dailyIndexDay(prefix, index) === undefined) continue;
    const missing = missingProperties(wanted, current?.properties as Properties | undefined);
    if (!missing) continue;
    try {
      await client.indices.putMapping({ index, properties: missing as never });
      result.updated.push(index);
    } catch (err) {
      result.failed.push({ index, reason: (err as Error).message });
    }
  }
  return result;
}

export async function deleteLogIndexTemplate(client: Client, prefix: string): Promise<void> {
  await client.indices.deleteIndexTemplate({ name: templateName(prefix) }, { ignore: [404] });
}
