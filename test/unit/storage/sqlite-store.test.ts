import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SqliteLogStore } from '../../../storage/logs/sqlite-store.ts';
import type { LogSearchStore } from '../../../storage/logs/types.ts';
import { searchStoreContract } from './search-contract.ts';
import { byTimeDescIdAsc, FIXTURES, GENERATED } from './search-fixtures.ts';

const dirs = new Map<LogSearchStore, string>();

searchStoreContract('sqlite', {
  async open() {
    const dir = mkdtempSync(join(tmpdir(), 'lf-sqlite-'));
    const store = SqliteLogStore.open({ path: join(dir, 'logs.sqlite') });
    dirs.set(store, dir);
    return store;
  },
  async dispose(store) {
    await store.close();
    rmSync(dirs.get(store)!, { recursive: true, force: true });
  },
});

describe('SqliteLogStore', () => {
  it('upgrades a schema-1 file (ties ordered by id) to the tie-breaker order', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lf-sqlite-'));
    try {
      const path = join(dir, 'logs.sqlite');
      const old = new Database(path);
      old.exec(`CREATE TABLE logs (rid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, ts INTEGER NOT NULL,
        level TEXT NOT NULL, service TEXT NOT NULL, message TEXT NOT NULL, hostname TEXT NOT NULL,
        file TEXT NOT NULL, extra TEXT, ingested_at INTEGER NOT NULL, error_key TEXT);
        CREATE INDEX logs_ts_id ON logs (ts DESC, id ASC);
        PRAGMA user_version = 1;`);
      const insert = old.prepare(
        'INSERT INTO logs (id, ts, level, service, message, hostname, file, ingested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      );
      for (const l of GENERATED.slice(0, 10)) {
        insert.run(
          l.id,
          l.timestamp,
          l.level,
          l.service,
          l.message,
          l.source.hostname,
          l.source.file,
          l.ingested_at,
        );
      }
      old.close();
      const store = SqliteLogStore.open({ path });
      const r = await store.search({
        limit: 100,
        offset: 0,
        services: [...new Set(GENERATED.slice(0, 10).map((l) => l.service))],
      });
      expect(r.logs.map((l) => l.id)).toEqual(
        [...GENERATED.slice(0, 10)].sort(byTimeDescIdAsc).map((l) => l.id),
      );
      await store.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps its logs in the file across a reopen', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lf-sqlite-'));
    try {
      const path = join(dir, 'nested', 'logs.sqlite');
      const first = SqliteLogStore.open({ path });
      await first.index(FIXTURES);
      await first.close();
      await first.close();
      const second = SqliteLogStore.open({ path });
      expect(await second.count()).toBe(FIXTURES.length);
      expect((await second.search({ query: 'card_declined', limit: 5, offset: 0 })).total).toBe(1);
      await second.close();
      expect(await second.ping()).toBe(false);
      await expect(second.count()).rejects.toMatchObject({ code: 'LF_ERR_STATE_STORE' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
