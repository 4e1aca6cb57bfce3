/** The log search stores: one interface (types.ts), SQLite and Elasticsearch behind it. */
export {
  createLogSearchStore,
  DEFAULT_INDEX_PREFIX,
  type LogSearchStoreOptions,
  SQLITE_FILE,
} from './create-log-search-store.ts';
export { ElasticsearchLogStore, type ElasticsearchLogStoreOptions } from './elasticsearch-store.ts';
export { decodeCursor, encodeCursor, errorKey, MAX_RESULT_WINDOW } from './search-query.ts';
export { SqliteLogStore, type SqliteLogStoreOptions } from './sqlite-store.ts';
export { standardTokens } from './standard-tokenizer.ts';
export * from './types.ts';
