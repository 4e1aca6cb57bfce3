/**
 * The search-store contract: the same fixtures and the same expectations for every
 * LogSearchStore. Unit tests run it against SQLite; integration tests against Elasticsearch.
 *
 * `open` must return a new, empty store each time; `dispose` removes what it created.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLogFlowError } from '../../../common/errors.ts';
import type { LogSearchResult, LogSearchStore } from '../../../storage/logs/types.ts';
import {
  countBy,
  docs,
  expectedHits,
  FIXTURES,
  type Filter,
  GENERATED,
  MINUTE,
  SPECIAL,
  T0,
} from './search-fixtures.ts';

export interface ContractTarget {
  open(): Promise<LogSearchStore>;
  dispose(store: LogSearchStore): Promise<void>;
}

const ids = (r: { logs: { id: string }[] }) => r.logs.map((l) => l.id);
const sortedIds = (r: { logs: { id: string }[] }) => ids(r).sort();

/** Generated logs whose message holds every word (a plain model; the words are simple ones). */
function generatedWith(...words: string[]): string[] {
  return GENERATED.filter((l) => {
    const tokens = l.message.toLowerCase().split(/[^a-z0-9_]+/);
    return words.every((w) => tokens.includes(w));
  })
    .map((l) => l.id)
    .sort();
}

async function expectBadRequest(promise: Promise<unknown>): Promise<void> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isLogFlowError(err) && err.code).toBe('LF_ERR_BAD_REQUEST');
}

export function searchStoreContract(name: string, target: ContractTarget): void {
  describe(`LogSearchStore contract: ${name}`, () => {
    let store: LogSearchStore;

    beforeAll(async () => {
      store = await target.open();
      // Two batches, the second overlapping the first: re-indexing must not duplicate.
      await store.index(FIXTURES.slice(0, 40));
      await store.index([...FIXTURES.slice(30), FIXTURES[0]]);
    });
    afterAll(async () => {
      if (store) await target.dispose(store);
    });

    async function searchFiltered(filter: Filter, limit = 1000): Promise<LogSearchResult> {
      return store.search({ ...filter, limit, offset: 0 });
    }

    it('answers ping', async () => {
      expect(await store.ping()).toBe(true);
    });

    it('keeps one copy per id however often a log is indexed', async () => {
      expect(await store.count()).toBe(FIXTURES.length);
      await store.index([FIXTURES[5], FIXTURES[5], { ...FIXTURES[6] }]);
      expect(await store.count()).toBe(FIXTURES.length);
      expect((await store.search({ limit: 0, offset: 0 })).total).toBe(FIXTURES.length);
    });

    it('gets a log by id with every field, or null', async () => {
      for (const fixture of [SPECIAL[0], GENERATED[0], GENERATED[13]]) {
        expect(await store.get(fixture.id)).toEqual(docs([fixture])[0]);
      }
      expect(await store.get('no-such-id')).toBeNull();
    });

    it('lists everything newest first with totals and aggregations', async () => {
      const all = expectedHits({});
      const r = await store.search({ limit: 10, offset: 0 });
      expect(r.total).toBe(FIXTURES.length);
      expect(r.logs).toEqual(docs(all.slice(0, 10)));
      expect(r.aggregations.by_level).toEqual(countBy(all, (l) => l.level));
      expect(r.aggregations.by_service).toEqual(countBy(all, (l) => l.service));
      expect(r.next_cursor).toEqual(expect.any(String));
    });

    it.each<[string, Filter]>([
      ['levels', { levels: ['ERROR', 'FATAL'] }],
      ['lowercase levels', { levels: ['error'] }],
      ['services', { services: ['payment-service', 'worker'] }],
      ['inclusive time range', { start_time: T0 + 5 * MINUTE, end_time: T0 + 12 * MINUTE }],
      ['start only', { start_time: T0 + 25 * MINUTE }],
      ['end only', { end_time: T0 - 57 * MINUTE }],
      [
        'everything combined',
        {
          levels: ['INFO', 'WARN'],
          services: ['api-gateway', 'search-service'],
          start_time: T0,
          end_time: T0 + 20 * MINUTE,
        },
      ],
      ['nothing matching', { services: ['no-such-service'] }],
    ])('filters by %s', async (_, filter) => {
      const expected = expectedHits(filter);
      const r = await searchFiltered(filter);
      expect(r.total).toBe(expected.length);
      expect(ids(r)).toEqual(expected.map((l) => l.id));
      expect(r.aggregations.by_level).toEqual(countBy(expected, (l) => l.level));
      expect(r.aggregations.by_service).toEqual(countBy(expected, (l) => l.service));
      expect(r.next_cursor).toBeUndefined();
    });

    it('pages with offset and limit, keeping the total', async () => {
      const all = expectedHits({});
      const seen: string[] = [];
      for (let offset = 0; offset < all.length; offset += 9) {
        const r = await store.search({ limit: 9, offset });
        expect(r.total).toBe(all.length);
        seen.push(...ids(r));
      }
      expect(seen).toEqual(all.map((l) => l.id));
      const past = await store.search({ limit: 5, offset: all.length });
      expect(past.logs).toEqual([]);
      expect(past.total).toBe(all.length);
    });

    it('pages with cursors through ties in timestamp, ending without a cursor', async () => {
      const filter: Filter = { services: ['api-gateway', 'auth-service', 'worker'] };
      const expected = expectedHits(filter).map((l) => l.id);
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const r = await store.search({ ...filter, limit: 4, offset: 0, cursor });
        expect(r.total).toBe(expected.length);
        seen.push(...ids(r));
        cursor = r.next_cursor;
        pages++;
      } while (cursor && pages < 100);
      expect(seen).toEqual(expected);
      // A page that ends exactly at the last hit has no cursor.
      const exact = await store.search({ ...filter, limit: expected.length, offset: 0 });
      expect(exact.next_cursor).toBeUndefined();
    });

    it('rejects a forged cursor and a window beyond 10,000 hits', async () => {
      await expectBadRequest(store.search({ limit: 5, offset: 0, cursor: 'not-a-cursor' }));
      await expectBadRequest(
        store.search({ limit: 5, offset: 0, cursor: Buffer.from('{"a":1}').toString('base64url') }),
      );
      await expectBadRequest(store.search({ limit: 100, offset: 9_950 }));
    });

    it.each<[string, string[]]>([
      ['database timeout', generatedWith('database', 'timeout')],
      ['TIMEOUT Database', generatedWith('database', 'timeout')],
      ['refused', generatedWith('refused')],
      ['card_declined', ['special-card']],
      ['user_id=42', ['special-card']],
      ['10.5', ['special-card']],
      ['user:42', ['special-cache']],
      ['payment-service', ['special-dash']],
      ['1,000', ['special-dash']],
      ['café', ['special-cafe']],
      ['CAFÉ CRÈME', ['special-cafe']],
      ['cafe', []],
      ['日本', ['special-cafe']],
      ['handled status=200', generatedWith('handled', 'status', '200')],
      ['handled', generatedWith('handled')],
    ])('finds full text %j as plain words', async (query, expected) => {
      const r = await store.search({ query, limit: 1000, offset: 0 });
      expect(sortedIds(r)).toEqual([...expected].sort());
      expect(r.total).toBe(expected.length);
    });

    it.each<[string, string[]]>([
      ['"', []],
      ['*', []],
      ['-', []],
      [':', []],
      ['()', []],
      ['"unbalanced', []],
      ['AND OR NOT', ['special-syntax']],
      ['NEAR(', ['special-syntax']],
      ['NEAR(a b)', ['special-syntax']],
      ['title:foo', ['special-syntax']],
      ['*wild*', ['special-syntax']],
      ['NOT timeout', []],
      ['timeout OR refused', []],
      ['-x', ['special-syntax']],
      ['quote"', ['special-syntax']],
      ['\\ ^ ~ { } [ ] / ? + & | ! < > =', []],
      ['card* ', []],
    ])('treats query syntax %j as words, never as syntax', async (query, expected) => {
      const r = await store.search({ query, limit: 1000, offset: 0 });
      expect(sortedIds(r)).toEqual([...expected].sort());
    });

    it('combines full text with filters and aggregations', async () => {
      const expected = GENERATED.filter(
        (l) => l.message.startsWith('Database timeout') && l.service === 'worker',
      );
      const r = await store.search({ query: 'timeout', services: ['worker'], limit: 100, offset: 0 });
      expect(sortedIds(r)).toEqual(expected.map((l) => l.id).sort());
      expect(r.aggregations.by_level).toEqual(countBy(expected, (l) => l.level));
    });

    it('lists recent logs, optionally of one level', async () => {
      expect(ids({ logs: await store.recent(7) })).toEqual(
        expectedHits({})
          .slice(0, 7)
          .map((l) => l.id),
      );
      expect(await store.recent(3, 'error')).toEqual(docs(expectedHits({ levels: ['ERROR'] }).slice(0, 3)));
    });

    it('counts a bounded histogram, with empty buckets and counts by level', async () => {
      const interval = 10 * MINUTE;
      const start = T0 - 65 * MINUTE;
      const end = T0 + 40 * MINUTE;
      const buckets = await store.histogram({ start_time: start, end_time: end }, interval);
      const firstKey = Math.floor(start / interval) * interval;
      expect(buckets.map((b) => b.key)).toEqual(
        Array.from(
          { length: Math.floor(end / interval) - Math.floor(start / interval) + 1 },
          (_, i) => firstKey + i * interval,
        ),
      );
      for (const b of buckets) {
        const inBucket = expectedHits({ start_time: b.key, end_time: b.key + interval - 1 });
        expect(b.count).toBe(inBucket.length);
        expect(b.by_level).toEqual(countBy(inBucket, (l) => l.level));
      }
      expect(buckets.some((b) => b.count === 0)).toBe(true);
    });

    it('counts an unbounded, filtered histogram from the first to the last bucket with data', async () => {
      const interval = 15 * MINUTE;
      const buckets = await store.histogram({ levels: ['ERROR', 'FATAL'], query: 'timeout' }, interval);
      const hits = GENERATED.filter((l) => l.message.startsWith('Database timeout'));
      const keys = hits.map((l) => Math.floor(l.timestamp / interval) * interval);
      expect(buckets[0].key).toBe(Math.min(...keys));
      expect(buckets[buckets.length - 1].key).toBe(Math.max(...keys));
      expect(buckets.reduce((n, b) => n + b.count, 0)).toBe(hits.length);
    });

    it('refuses a histogram with too many buckets', async () => {
      const err = await store.histogram({ start_time: 0, end_time: T0 }, 1000).catch((e: unknown) => e);
      expect(isLogFlowError(err) && err.code).toBe('LF_ERR_UNSUPPORTED_RANGE');
    });

    it('ranks the top errors of a service by their first line', async () => {
      const start = T0 - 2 * 60 * MINUTE;
      const end = T0 + 60 * MINUTE;
      for (const service of ['payment-service', 'search-service']) {
        const errors = FIXTURES.filter(
          (l) => l.service === service && (l.level === 'ERROR' || l.level === 'FATAL'),
        );
        const counts = countBy(errors, (l) => l.message.split('\n')[0]);
        const expected = Object.entries(counts)
          .map(([message, count]) => ({ message, count }))
          .sort((a, b) => b.count - a.count || (a.message < b.message ? -1 : 1));
        expect(await store.topErrors(service, start, end, 10)).toEqual(expected);
        expect(await store.topErrors(service, start, end, 1)).toEqual(expected.slice(0, 1));
      }
      expect(await store.topErrors('payment-service', T0 + 2 * 60 * MINUTE, T0 + 3 * 60 * MINUTE, 5)).toEqual(
        [],
      );
    });
  });

  describe(`LogSearchStore contract: ${name} retention`, () => {
    let store: LogSearchStore;
    beforeAll(async () => {
      store = await target.open();
      await store.index(FIXTURES);
    });
    afterAll(async () => {
      if (store) await target.dispose(store);
    });

    it('deletes logs older than the cutoff, across days, and nothing newer', async () => {
      // Cutoff just after midnight: the whole first day goes, and part of the second.
      const cutoff = Date.UTC(2026, 0, 15, 0, 10, 0);
      await store.deleteOlderThan(cutoff);
      const kept = expectedHits({ start_time: cutoff });
      expect(await store.count()).toBe(kept.length);
      const r = await store.search({ limit: 1000, offset: 0 });
      expect(ids(r)).toEqual(kept.map((l) => l.id));
      expect(await store.get(SPECIAL[0].id)).toBeNull();
    });
  });
}
