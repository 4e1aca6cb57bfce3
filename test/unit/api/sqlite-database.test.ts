import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteDatabase, type SqliteDatabase } from '../../../storage/db/sqlite-database.ts';
import { waitFor } from '../../helpers/wait-for.ts';
import { databaseContract, ruleInput } from './db-contract.ts';

describe('SQLite database', () => {
  const open: SqliteDatabase[] = [];
  afterEach(async () => {
    for (const db of open.splice(0)) await db.close();
  });

  databaseContract(() => {
    const db = openSqliteDatabase(':memory:');
    open.push(db);
    return db;
  });

  it('watch() sees rule changes made by another connection to the same file (polling)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lf-db-'));
    try {
      const a = openSqliteDatabase(join(dir, 'x.db'), { pollIntervalMs: 20 });
      const b = openSqliteDatabase(join(dir, 'x.db'));
      open.push(a, b);
      const seen: number[] = [];
      const stop = a.alertRules.watch((c) => c.id !== null && seen.push(c.id));
      const rule = await b.alertRules.create(ruleInput());
      await waitFor(() => seen.includes(rule.id), { what: 'cross-connection change' });
      await stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('migrating a file twice applies nothing the second time', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lf-db-'));
    try {
      const a = openSqliteDatabase(join(dir, 'y.db'));
      await a.close();
      const b = openSqliteDatabase(join(dir, 'y.db'));
      open.push(b);
      expect(await b.migrate()).toEqual([]);
      expect(b.handle.prepare('SELECT version FROM schema_migrations').all()).toEqual([{ version: '001' }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
