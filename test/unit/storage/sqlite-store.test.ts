import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { errorKey, isErrorLevel, tieBreaker } from '../../../storage/logs/search-query.ts';
import { SqliteLogStore } from '../../../storage/logs/sqlite-store.ts';
import { standardTokens } from '../../../storage/logs/standard-tokenizer.ts';
import type { LogSearchQuery, LogSearchStore, ParsedLog } from '../../../storage/logs/types.ts';
import { searchStoreContract } from './search-contract.ts';
import { byTimeDescIdAsc, FIXTURES, GENERATED, MINUTE, T0 } from './search-fixtures.ts';

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

  it('upgrades a schema-2 file (rows in insertion order) to time-ordered rows with the same answers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lf-sqlite-'));
    try {
      const path = join(dir, 'logs.sqlite');
      const old = new Database(path);
      old.exec(`CREATE TABLE logs (rid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, ts INTEGER NOT NULL,
        level TEXT NOT NULL, service TEXT NOT NULL, message TEXT NOT NULL, hostname TEXT NOT NULL,
        file TEXT NOT NULL, extra TEXT, ingested_at INTEGER NOT NULL, error_key TEXT, tb INTEGER NOT NULL DEFAULT 0);
        CREATE INDEX logs_ts_tb ON logs (ts DESC, tb ASC);
        CREATE INDEX logs_level_ts ON logs (level, ts);
        CREATE INDEX logs_service_ts ON logs (service, ts);
        CREATE VIRTUAL TABLE logs_fts USING fts5(terms, content='', contentless_delete=1, detail=none,
          tokenize="unicode61 remove_diacritics 0 categories 'L* M* N* P* S* C*'");
        PRAGMA user_version = 2;`);
      const insert = old.prepare(
        `INSERT INTO logs (id, ts, level, service, message, hostname, file, extra, ingested_at, error_key, tb)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      );
      const terms = old.prepare('INSERT INTO logs_fts (rowid, terms) VALUES (?, ?)');
      // Newest first, so insertion order is the reverse of time order.
      for (const l of [...FIXTURES].sort(byTimeDescIdAsc)) {
        const extra = Object.keys(l.extra_fields).length > 0 ? JSON.stringify(l.extra_fields) : null;
        const key = isErrorLevel(l.level) ? errorKey(l.message) : null;
        const r = insert.run(
          l.id,
          l.timestamp,
          l.level,
          l.service,
          l.message,
          l.source.hostname,
          l.source.file,
          extra,
          l.ingested_at,
          key,
          tieBreaker(l.id),
        );
        terms.run(r.lastInsertRowid, standardTokens(l.message).join(' '));
      }
      old.close();
      const upgraded = SqliteLogStore.open({ path });
      const fresh = SqliteLogStore.open({ path: ':memory:' });
      await fresh.index(FIXTURES);
      expect(await upgraded.count()).toBe(FIXTURES.length);
      const questions: LogSearchQuery[] = [
        { limit: 7, offset: 3 },
        { query: 'timeout', limit: 5, offset: 0 },
        { query: 'request', start_time: T0 + 5 * MINUTE, end_time: T0 + 20 * MINUTE, limit: 4, offset: 0 },
        { levels: ['ERROR', 'WARN'], start_time: T0 + 10 * MINUTE, limit: 100, offset: 0 },
      ];
      for (const q of questions) expect(await upgraded.search(q)).toEqual(await fresh.search(q));
      const service = FIXTURES.find((l) => l.level === 'ERROR')!.service;
      expect(await upgraded.topErrors(service, 0, T0 + 60 * MINUTE, 5)).toEqual(
        await fresh.topErrors(service, 0, T0 + 60 * MINUTE, 5),
      );
      await upgraded.close();
      await fresh.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('pages through many logs of one millisecond, with text and a time range, in (time desc, tie-breaker asc) order', async () => {
    const store = SqliteLogStore.open({ path: ':memory:' });
    const logs: ParsedLog[] = Array.from({ length: 300 }, (_, i) => ({
      id: `tie-${i}`,
      // Runs of 40 logs in one millisecond, inserted out of time order.
      timestamp: T0 + ((i * 7) % 8) * 1000,
      level: i % 3 === 0 ? 'ERROR' : 'INFO',
      service: 'svc',
      message: i % 2 === 0 ? 'disk full on node' : 'all good',
      source: { hostname: 'h', file: 'f' },
      extra_fields: {},
      ingested_at: T0,
    }));
    await store.index(logs.slice(150));
    await store.index(logs.slice(0, 150));
    const query = { query: 'disk', levels: ['ERROR'], start_time: T0 + 1000, end_time: T0 + 6000 };
    const expected = logs
      .filter((l) => l.message.includes('disk') && l.level === 'ERROR')
      .filter((l) => l.timestamp >= T0 + 1000 && l.timestamp <= T0 + 6000)
      .sort((a, b) => b.timestamp - a.timestamp || tieBreaker(a.id) - tieBreaker(b.id))
      .map((l) => l.id);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.search({ ...query, limit: 7, offset: 0, cursor });
      expect(page.total).toBe(expected.length);
      seen.push(...page.logs.map((l) => l.id));
      cursor = page.next_cursor;
    } while (cursor);
    expect(seen).toEqual(expected);
    const byOffset = await store.search({ ...query, limit: 9, offset: 11 });
    expect(byOffset.logs.map((l) => l.id)).toEqual(expected.slice(11, 20));
    await store.close();
  });

  it('keeps count() right across its own writes, retention and another connection', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lf-sqlite-'));
    try {
      const path = join(dir, 'logs.sqlite');
      const a = SqliteLogStore.open({ path });
      const b = SqliteLogStore.open({ path });
      await a.index(GENERATED.slice(0, 20));
      expect(await a.count()).toBe(20);
      expect(await b.count()).toBe(20);
      await a.index(GENERATED.slice(10, 30));
      expect(await a.count()).toBe(30);
      expect(await b.count()).toBe(30);
      await b.deleteOlderThan(GENERATED[5].timestamp);
      const left = GENERATED.slice(0, 30).filter((l) => l.timestamp >= GENERATED[5].timestamp).length;
      expect(await b.count()).toBe(left);
      expect(await a.count()).toBe(left);
      await a.close();
      await b.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
