import pg from 'pg';
import { LogFlowError } from '../../common/errors.ts';
import { createLogger } from '../../common/logger.ts';
import { loadMigrations, SCHEMA_MIGRATIONS_DDL } from './migrations.ts';
import { PgClient, PgRuleChangeFeed } from './pg-client.ts';
import { createAlertRulesRepository } from './repositories/alert-rules.ts';
import { createApiKeysRepository } from './repositories/api-keys.ts';
import { createSilencesRepository } from './repositories/silences.ts';
import { createSystemConfigRepository } from './repositories/system-config.ts';
import { createTriggeredAlertsRepository } from './repositories/triggered-alerts.ts';
import { createUsersRepository } from './repositories/users.ts';
import { mapDbError } from './sql-client.ts';
import type { Database } from './types.ts';

const log = createLogger('db.postgres');

// Any constant works; it only has to be the same for every LogFlow process migrating this database.
const MIGRATION_LOCK = 4_242_017;

/** Applies pending PostgreSQL migrations in one transaction under an advisory lock. */
export async function migratePostgres(pool: pg.Pool): Promise<string[]> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await client.query(SCHEMA_MIGRATIONS_DDL);
    const done = new Set(
      (await client.query<{ version: string }>('SELECT version FROM schema_migrations')).rows.map(
        (r) => r.version,
      ),
    );
    const applied: string[] = [];
    for (const m of loadMigrations('pg')) {
      if (done.has(m.version)) continue;
      try {
        await client.query(m.sql);
      } catch (err) {
        throw new LogFlowError('LF_ERR_DB_MIGRATION', `PostgreSQL migration ${m.version}_${m.name} failed`, {
          cause: err,
        });
      }
      await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
        m.version,
        m.name,
        new Date().toISOString(),
      ]);
      applied.push(m.version);
    }
    await client.query('COMMIT');
    return applied;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw mapDbError(err);
  } finally {
    client.release();
  }
}

/** Creates the database named in `url` when it does not exist (connecting to `postgres`). */
export async function ensurePostgresDatabase(url: string): Promise<boolean> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ''));
  if (!name) return false;
  const admin = new URL(url);
  admin.pathname = '/postgres';
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (exists.rowCount) return false;
    await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
    return true;
  } catch (err) {
    // Another process may have created it at the same moment.
    if ((err as { code?: string }).code === '42P04') return false;
    throw err;
  } finally {
    await client.end();
  }
}

export interface PostgresDatabase extends Database {
  readonly pool: pg.Pool;
  /** Resolves once every rule watcher's LISTEN is in place. */
  readonly watchReady: () => Promise<void>;
}

/** Connects (creating the database when absent), migrates, and returns the repositories. */
export async function openPostgresDatabase(
  url: string,
  options: { max?: number } = {},
): Promise<PostgresDatabase> {
  await ensurePostgresDatabase(url).catch((err) => {
    throw mapDbError(err);
  });
  const pool = new pg.Pool({ connectionString: url, max: options.max ?? 10 });
  pool.on('error', (err) => log.warn({ err }, 'idle PostgreSQL connection failed'));
  try {
    await migratePostgres(pool);
  } catch (err) {
    await pool.end();
    throw err;
  }
  const client = new PgClient(pool);
  const feed = new PgRuleChangeFeed(pool);
  let closed = false;
  return {
    kind: 'postgres',
    pool,
    watchReady: () => feed.ready(),
    users: createUsersRepository(client),
    apiKeys: createApiKeysRepository(client),
    alertRules: createAlertRulesRepository(client, feed),
    triggeredAlerts: createTriggeredAlertsRepository(client),
    silences: createSilencesRepository(client),
    systemConfig: createSystemConfigRepository(client),
    migrate: () => migratePostgres(pool),
    async ping() {
      try {
        await pool.query('SELECT 1');
        return true;
      } catch {
        return false;
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      await feed.close();
      await pool.end();
    },
  };
}
