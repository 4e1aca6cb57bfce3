import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SqliteLogStore } from '../../../storage/logs/sqlite-store.ts';
import type { LogSearchStore } from '../../../storage/logs/types.ts';
import { searchStoreContract } from './search-contract.ts';
import { FIXTURES } from './search-fixtures.ts';

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
