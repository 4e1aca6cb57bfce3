import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openPostgresDatabase, type PostgresDatabase } from '../../../storage/db/postgres-database.ts';
import { waitFor } from '../../helpers/wait-for.ts';
import { databaseContract } from '../../unit/api/db-contract.ts';
import { randomDatabase } from './pg-helpers.ts';

describe('PostgreSQL database (real server, a random database from empty)', () => {
  const target = randomDatabase();
  let db: PostgresDatabase;

  beforeAll(async () => {
    db = await openPostgresDatabase(target.url);
  });
  afterAll(async () => {
    await db?.close();
    await target.drop();
  });

  it('created the schema from empty: every table and the first migration recorded', async () => {
    const { rows } = await db.pool.query(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
    );
    expect(rows.map((r) => r.table_name)).toEqual([
      'alert_rules',
      'api_keys',
      'schema_migrations',
      'silences',
      'system_config',
      'triggered_alerts',
      'users',
      'webhook_deliveries',
      'webhook_delivery_claims',
    ]);
  });

  // Each contract test gets clean tables (the database is this file's alone).
  beforeEach(async () => {
    await db.pool.query(
      'TRUNCATE users, api_keys, alert_rules, triggered_alerts, silences, system_config RESTART IDENTITY',
    );
  });

  databaseContract(
    () => db,
    async (d) => {
      await (d as PostgresDatabase).watchReady();
    },
  );

  it('watch() sends reload once LISTEN is in place, so nothing between list() and it is lost', async () => {
    const ops: string[] = [];
    const stop = db.alertRules.watch((c) => ops.push(c.op));
    await waitFor(() => ops.includes('reload'), { what: 'reload after LISTEN' });
    await stop();
  });

  it('a second opener of the same database migrates nothing', async () => {
    const other = await openPostgresDatabase(target.url);
    try {
      expect(await other.migrate()).toEqual([]);
    } finally {
      await other.close();
    }
  });
});
