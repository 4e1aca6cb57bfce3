/**
 * The Elasticsearch connector: the sink that bulk-writes `logs-parsed` into daily indices, the
 * index template those indices are made from, and retention by index.
 */
export type { BulkApi, BulkResult } from './bulk-api.ts';
export { clientBulkApi } from './bulk-api.ts';
export { type ItemOutcome, itemOutcome } from './bulk-outcome.ts';
export {
  deleteLogIndexTemplate,
  type IndexTemplateOptions,
  logIndexTemplate,
  putLogIndexTemplate,
} from './index-template.ts';
export { dailyIndexName, fromEsSource, toEsSource } from './log-document.ts';
export { deleteIndicesOlderThan, listDailyIndices } from './retention.ts';
export {
  createElasticsearchSink,
  DEAD_LETTER_HEADERS,
  ElasticsearchSink,
  type ElasticsearchSinkOptions,
  type SinkStats,
} from './sink.ts';
