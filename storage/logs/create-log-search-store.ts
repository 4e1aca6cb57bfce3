/**
 * The one way the rest of LogFlow gets its search store: SQLite in the embedded mode (a file in
 * the data dir), Elasticsearch in the kafka mode (the configured cluster, daily indices
 * `<indexPrefix>-*`).
 */
import { join } from 'node:path';
import type { Client } from '@elastic/elasticsearch';
import type { LogFlowConfig } from '../../common/config.ts';
import type { IndexTemplateOptions } from '../../connectors/elasticsearch/index-template.ts';
import { ElasticsearchLogStore } from './elasticsearch-store.ts';
import { SqliteLogStore } from './sqlite-store.ts';
import type { LogSearchStore } from './types.ts';

export const SQLITE_FILE = 'logs.sqlite';
export const DEFAULT_INDEX_PREFIX = 'logs';

export interface LogSearchStoreOptions {
  /** Elasticsearch: daily index prefix. Default `logs`. */
  indexPrefix?: string;
  /** Elasticsearch: share a client instead of creating one. */
  client?: Client;
  template?: IndexTemplateOptions;
  /** SQLite: overrides `<dataDir>/logs.sqlite`. */
  sqlitePath?: string;
}

export function createLogSearchStore(
  config: Pick<LogFlowConfig, 'mode' | 'dataDir' | 'elasticsearchUrl'>,
  options: LogSearchStoreOptions = {},
): LogSearchStore {
  if (config.mode === 'kafka') {
    return new ElasticsearchLogStore({
      client: options.client,
      node: config.elasticsearchUrl,
      indexPrefix: options.indexPrefix ?? DEFAULT_INDEX_PREFIX,
      template: options.template,
    });
  }
  return SqliteLogStore.open({ path: options.sqlitePath ?? join(config.dataDir, SQLITE_FILE) });
}
