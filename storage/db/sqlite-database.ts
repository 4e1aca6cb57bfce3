import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Sqlite from 'better-sqlite3';
import { LogFlowError } from '../../common/errors.ts';
import { loadMigrations, SCHEMA_MIGRATIONS_DDL } from './migrations.ts';
import { createAlertRulesRepository } from './repositories/alert-rules.ts';
import { createApiKeysRepository } from './repositories/api-keys.ts';
import { createSilencesRepository } from './repositories/silences.ts';
import { createSystemConfigRepository } from './repositories/system-config.ts';
import { createTriggeredAlertsRepository } from './repositories/triggered-alerts.ts';
import { createUsersRepository } from './repositories/users.ts';
import { SqliteClient, SqliteRuleChangeFeed } from './sqlite-client.ts';
import type { Database } from './types.ts';

/** Applies pending SQLite migrations in one transaction; returns the versions applied. */
export function migrateSqlite(db: Sqlite.Database): string[] {
  const run = db.transaction(() => {
    db.exec(SCHEMA_MIGRATIONS_DDL);
    const done = new Set(
      (db.prepare('SELECT version FROM schema_migrations').all() as { version: string }[]).map(
        (r) => r.version,
      ),
    );
    const applied: string[] = [];
    for (const m of loadMigrations('sqlite')) {
      if (done.has(m.version)) continue;
      try {
        db.exec(m.sql);
      } catch (err) {
        throw new LogFlowError('LF_ERR_DB_MIGRATION', `SQLite migration ${m.version}_${m.name} failed`, {
          cause: err,
        });
      }
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
        m.version,
        m.name,
        new Date().toISOString(),
      );
      applied.push(m.version);
    }
    return applied;
  });
  return run.immediate();
}

export interface SqliteDatabase extends Database {
  readonly file: string;
  /** The driver handle, for `logflow db backup` (online .backup API). */
  readonly handle: Sqlite.Database;
}

/** Opens (creating when absent) and migrates the embedded database; ':memory:' for tests. */
export function openSqliteDatabase(file: string, options: { pollIntervalMs?: number } = {}): SqliteDatabase {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const handle = new Sqlite(file);
  handle.pragma('journal_mode = WAL');
  handle.pragma('busy_timeout = 5000');
  handle.pragma('synchronous = NORMAL');
  migrateSqlite(handle);
  const client = new SqliteClient(handle);
  const feed = new SqliteRuleChangeFeed(client, options.pollIntervalMs);
  let closed = false;
  return {
    kind: 'sqlite',
    file,
    handle,
    users: createUsersRepository(client),
    apiKeys: createApiKeysRepository(client),
    alertRules: createAlertRulesRepository(client, feed),
    triggeredAlerts: createTriggeredAlertsRepository(client),
    silences: createSilencesRepository(client),
    systemConfig: createSystemConfigRepository(client),
    async migrate() {
      return migrateSqlite(handle);
    },
    async ping() {
      try {
        handle.prepare('SELECT 1').get();
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await feed.close();
      handle.close();
    },
  };
}
