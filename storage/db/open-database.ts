import { join } from 'node:path';
import type { LogFlowConfig } from '../../common/config.ts';
import { openPostgresDatabase } from './postgres-database.ts';
import { openSqliteDatabase } from './sqlite-database.ts';
import type { Database } from './types.ts';

/** The embedded database file inside the data dir. */
export function sqliteFile(config: Pick<LogFlowConfig, 'dataDir'>): string {
  return join(config.dataDir, 'logflow.db');
}

/**
 * The database for a mode: PostgreSQL (`config.databaseUrl`) in the kafka mode, SQLite in the
 * data dir in the embedded mode. Returned migrated and ready; the caller closes it.
 */
export async function openDatabase(
  config: Pick<LogFlowConfig, 'mode' | 'dataDir' | 'databaseUrl'>,
): Promise<Database> {
  if (config.mode === 'kafka') return openPostgresDatabase(config.databaseUrl);
  return openSqliteDatabase(sqliteFile(config));
}
